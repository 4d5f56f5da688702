{
  "targets": [
    {
      "target_name": "hotcache_native",
      "sources": [
        "hooks/native/addon.cc", "hooks/native/advise.cc", "hooks/native/residency.cc", "hooks/native/open_in_root.cc", "hooks/native/fetch.cc",
        "criu-plugin/lib/cachestat.c", "criu-plugin/lib/open-in-root.c", "criu-plugin/lib/refused-fs.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "criu-plugin/include", "contract/out"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17"]
    }
  ]
}
