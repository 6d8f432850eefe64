/** VMDK: a streamOptimized writer from a raw disk image (and an OVA around it), and a reader of hosted sparse VMDKs. docs/formats/vmdk.md. */
export { VMDK_MAGIC, decodeVmdkHeader, encodeVmdkHeader, isVmdkDescriptorText, sniffVmdk, vmdkDescriptor, type VmdkHeader } from './layout.js';
export { VMDK_COMPRESSION, writeVmdk, type VmdkReport, type VmdkWriteOptions } from './writer.js';
export { openVmdk, type VmdkImage } from './reader.js';
export { ovfDescriptor, type OvfOptions } from './ovf.js';
export { writeOvaTar, type OvaMember } from './ova.js';
