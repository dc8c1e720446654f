#ifndef DBAL_CHDF5_SHIM_H
#define DBAL_CHDF5_SHIM_H
// HDF5 1.10 C API (Debian libhdf5-dev, serial). The macros below expand to H5open() calls and
// globals, which Swift cannot import; each is re-exposed as a static inline function.
#include <hdf5.h>

static inline unsigned dbal_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned dbal_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline unsigned dbal_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned dbal_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }

static inline hid_t dbal_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t dbal_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t dbal_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t dbal_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t dbal_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t dbal_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t dbal_H5P_ATTRIBUTE_CREATE(void) { return H5P_ATTRIBUTE_CREATE; }

static inline hid_t dbal_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t dbal_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t dbal_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t dbal_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t dbal_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t dbal_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t dbal_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t dbal_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t dbal_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t dbal_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t dbal_H5T_C_S1(void) { return H5T_C_S1; }
static inline hsize_t dbal_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
// These import as untyped `Int32` literals; the getters give them the `hid_t` type.
static inline hid_t dbal_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hid_t dbal_H5S_ALL(void) { return H5S_ALL; }
#endif
