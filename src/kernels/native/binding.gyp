{
  # The native kernel addon. The AVX2 loops are a separate library built with AVX2/FMA/F16C enabled;
  # the addon picks them at run time only on CPUs that have those instructions.
  "target_defaults": {
    "cflags_cc": ["-O3", "-pthread", "-std=c++17", "-fno-math-errno"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
    "cflags!": ["-fno-exceptions"],
    "ldflags": ["-pthread"]
  },
  "targets": [
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": ["csrc/avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-fPIC"]
    },
    {
      "target_name": "dsts_native",
      "sources": ["csrc/addon.cc", "csrc/ops.cc", "csrc/generic.cc", "csrc/decode.cc", "csrc/quantize.cc", "csrc/mapping.cc", "csrc/attention.cc", "csrc/pool.cc", "csrc/rows.cc"],
      "dependencies": ["kernels_avx2"]
    }
  ]
}
