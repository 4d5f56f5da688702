{
  "targets": [
    {
      "target_name": "hotcache_native",
      "sources": ["hooks/native/addon.cc", "hooks/native/advise.cc", "hooks/native/residency.cc", "hooks/native/open_in_root.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
