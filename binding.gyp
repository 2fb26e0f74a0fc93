{
  "targets": [
    {
      "target_name": "milestones_cpu",
      "sources": [
        "native/cpu/addon.cc",
        "native/cpu/pool.cc",
        "native/cpu/gemm.cc",
        "native/cpu/elementwise.cc",
        "native/cpu/reduce.cc",
        "native/cpu/nn.cc",
        "native/cpu/rnn.cc",
        "native/cpu/conv.cc",
        "native/cpu/conv-small.cc",
        "native/cpu/indexing.cc",
        "native/cpu/memory.cc",
        "native/cpu/norm.cc",
        "native/cpu/optim.cc",
        "native/cpu/vmath.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='linux'", {"libraries": ["-pthread"], "cflags": ["-pthread"]}],
        ["OS=='mac'", {"xcode_settings": {"CLANG_CXX_LANGUAGE_STANDARD": "c++17", "OTHER_CPLUSPLUSFLAGS": ["-O3"]}}]
      ]
    }
  ]
}
