/*
 * mica/objects.h - kernel object types, and handle values.
 */
#ifndef MICA_ABI_OBJECTS_H
#define MICA_ABI_OBJECTS_H

#include <stdint.h>

typedef uint32_t mica_handle_t;

/* No handle: 0 is never a valid handle value. */
#define HANDLE_INVALID 0u

enum mica_obj_type {
    OBJ_NONE = 0,
    OBJ_PROCESS = 1,
    OBJ_THREAD = 2,
    OBJ_VMO = 3,
    OBJ_CHANNEL = 4,
    OBJ_PORT = 5,
    OBJ_EVENT = 6,
    OBJ_INTERRUPT = 7,
    OBJ_IOPORT = 8,
    OBJ_TIMER = 9,
    OBJ_RESOURCE = 10,
    OBJ_HANDLE_TABLE = 11,
    OBJ_JOB = 12,
    OBJ_LOG = 13,
    OBJ_GRANT = 14,
    OBJ_EXCEPTION = 15,
    OBJ_TYPE_COUNT
};

#endif
