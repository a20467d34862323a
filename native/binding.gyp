{
  # The MoE Lab native addon: every native/src/*.cc file is compiled; each registers its own exports
  # (registry.h), so adding an op is adding a file. ISA-specific code uses per-function target attributes
  # and is chosen at run time (cpu.h), so the build runs on any x86-64 and never executes an unsupported instruction.
  "targets": [
    {
      "target_name": "moelab_native",
      "sources": ["<!@(node -e \"const fs=require('fs');console.log(fs.readdirSync('src').filter(f=>f.endsWith('.cc')).map(f=>'src/'+f).join(' '))\")"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-O3", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"]
    }
  ]
}
