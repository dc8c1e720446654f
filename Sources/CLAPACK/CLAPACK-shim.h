#ifndef DBAL_CLAPACK_SHIM_H
#define DBAL_CLAPACK_SHIM_H
// LAPACKE 3.11 and CBLAS (Debian liblapacke-dev; BLAS and LAPACK from libopenblas-dev or the
// reference libblas-dev/liblapack-dev, whichever the alternatives system selects). Only the
// standard LAPACKE and CBLAS interfaces are used, so either implementation links.
#include <cblas.h>
#include <lapacke.h>
#endif
