/*
 * mica.c - small helpers of the user runtime: the handles from the
 * auxiliary vector, and status names from the one error table.
 */
#include <mica/auxv.h>
#include <sys/auxv.h>

#include "mica.h"

mica_handle_t mica_process_self(void)
{
    return (mica_handle_t)getauxval(AT_MICA_PROCESS);
}

mica_handle_t mica_resource_handle(void)
{
    return (mica_handle_t)getauxval(AT_MICA_RESOURCE);
}

mica_handle_t mica_startup_handle(void)
{
    return (mica_handle_t)getauxval(AT_MICA_STARTUP);
}

const char *mica_status_str(int status)
{
    switch (status) {
#define MICA_ERR_CASE(name, value, msg) case value: return #name;
    MICA_ERRORS(MICA_ERR_CASE)
#undef MICA_ERR_CASE
    }
    return "ERR_UNKNOWN";
}
