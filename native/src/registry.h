// Each source file registers the functions it exports to JavaScript; addon.cc's Init adds them all.
#pragma once
#include <napi.h>
#include <vector>

namespace moelab {

struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

std::vector<Export>& exports_registry();

inline bool register_export(const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  exports_registry().push_back({name, fn});
  return true;
}

}  // namespace moelab

// MOELAB_EXPORT(name, fn): make `fn` callable from JavaScript as addon.<name>.
#define MOELAB_EXPORT(name, fn) static const bool moelab_registered_##fn = ::moelab::register_export(name, fn)
