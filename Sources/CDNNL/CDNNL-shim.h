#ifndef DBAL_CDNNL_SHIM_H
#define DBAL_CDNNL_SHIM_H
// oneDNN 2.6 C API (Debian libdnnl-dev). The macros below are pointer casts or macro aliases,
// which Swift cannot import; each is re-exposed as a static inline function.
#include <dnnl.h>
#include <dnnl_debug.h>

static inline void *dbal_dnnl_memory_allocate(void) { return DNNL_MEMORY_ALLOCATE; }

static inline int dbal_dnnl_arg_src(void) { return DNNL_ARG_SRC; }
static inline int dbal_dnnl_arg_dst(void) { return DNNL_ARG_DST; }
static inline int dbal_dnnl_arg_weights(void) { return DNNL_ARG_WEIGHTS; }
static inline int dbal_dnnl_arg_bias(void) { return DNNL_ARG_BIAS; }
static inline int dbal_dnnl_arg_workspace(void) { return DNNL_ARG_WORKSPACE; }
static inline int dbal_dnnl_arg_diff_src(void) { return DNNL_ARG_DIFF_SRC; }
static inline int dbal_dnnl_arg_diff_dst(void) { return DNNL_ARG_DIFF_DST; }
static inline int dbal_dnnl_arg_diff_weights(void) { return DNNL_ARG_DIFF_WEIGHTS; }
static inline int dbal_dnnl_arg_diff_bias(void) { return DNNL_ARG_DIFF_BIAS; }
static inline int dbal_dnnl_arg_from(void) { return DNNL_ARG_FROM; }
static inline int dbal_dnnl_arg_to(void) { return DNNL_ARG_TO; }
#endif
