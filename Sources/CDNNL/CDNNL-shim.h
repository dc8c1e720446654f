#ifndef DBAL_CDNNL_SHIM_H
#define DBAL_CDNNL_SHIM_H
// oneDNN 2.6 C API (Debian libdnnl-dev). Add static inline helpers here for any macro Swift
// cannot import.
#include <dnnl.h>
#endif
