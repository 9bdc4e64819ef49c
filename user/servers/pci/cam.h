/*
 * cam.h - configuration mechanism #1: PCI configuration space through
 * the I/O ports 0xCF8 (address) and 0xCFC-0xCFF (data).
 */
#ifndef MICA_PCI_CAM_H
#define MICA_PCI_CAM_H

#include "config.h"

#define CAM_PORT_BASE 0xcf8
#define CAM_PORT_COUNT 8

/* The accessors; the caller must have enabled the eight ports. */
extern const struct pci_config pci_cam;

#endif
