// Elementwise loops compiled for several instruction sets and picked when the
// program loads (GCC's target_clones, resolved through an ifunc): AVX-512,
// AVX2 + FMA, and the x86-64 baseline. The binary runs on any x86-64 and uses
// the widest vectors the CPU has, without -march. The AVX2 and AVX-512 clones
// may fuse a multiply and an add (FMA), so the last bit of a result may differ
// between CPUs, as oneDNN's do; on one machine it never depends on the run or
// the thread count.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ANNEAL_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ANNEAL_SIMD_CLONES
#endif
