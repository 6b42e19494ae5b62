/* A Node-API addon over the wasm3 interpreter (built by build.ts against
 * WASM3_SRC): one class, Instance, holding one wasm3 environment, runtime and
 * module. host/wasm3/wasm3.ts gives it the shape of WebAssembly.Instance.
 *
 *   new Instance(bytes, imports, stackBytes, memoryLimit)
 *     bytes        Uint8Array, copied (wasm3 borrows module bytes for the module's life)
 *     imports      { module: { name: function } }: every function import is bound
 *                  to its JS function; i32, f32 and f64 cross as numbers, i64 as BigInt
 *     memoryLimit  0, or the most bytes of linear memory wasm3 allocates
 *                  (runtime->memoryLimit: memory.size still reports the declared pages)
 *   .exports()     [[name, index], ...] of the exported functions
 *   .globals()     names of the exported globals; .global(name) reads one
 *   .call(index, ...args)  calls an export; a trap throws Error("wasm3: [trap] ...")
 *   .memory()      the linear memory as an ArrayBuffer: the same object until
 *                  the memory moves (memory.grow) or the instance closes, which detach it
 *   .grow(pages)   memory.grow from the host: the previous size in pages, or -1
 *                  (wasm3 allocates at most memoryLimit bytes of them)
 *   .close()       frees the runtime now; later calls throw
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m3_env.h"
#include "wasm3.h"
#include "wasm3_memory.h"

#define MAX_VALUES 16u

typedef struct instance instance;

typedef struct {
  instance* in;
  uint32_t index;
} import_ctx;

struct instance {
  napi_env env;
  IM3Environment m3env;
  IM3Runtime runtime;     /* NULL once closed */
  uint8_t* bytes;         /* the module's bytes, borrowed by wasm3 */
  IM3Module module;
  uint32_t* export_of;    /* export index -> module function index */
  IM3Function* functions; /* export index -> function, found (and compiled) on first call */
  uint32_t num_exports;
  napi_ref* imports;      /* one JS function per function import */
  import_ctx* import_ctxs; /* wasm3 keeps pointers to these until the runtime is freed */
  uint32_t num_imports;
  napi_ref memory;        /* weak: the ArrayBuffer last handed out */
  uint8_t* memory_at;
  uint32_t memory_size;
  /* The JS wrapper and each ArrayBuffer over the memory hold one; the
   * runtime is freed when the last lets go (or at close()). */
  uint32_t holders;
};

/* A JS exception thrown by an import travels through wasm3 as this trap. */
static const char host_threw[] = "[trap] host function threw";

static void free_runtime(instance* in) {
  if (in->runtime) m3_FreeRuntime(in->runtime); /* frees the loaded module too */
  else if (in->module) m3_FreeModule(in->module); /* parsed, never loaded */
  if (in->m3env) m3_FreeEnvironment(in->m3env);
  in->runtime = NULL;
  in->module = NULL;
  in->m3env = NULL;
  free(in->bytes);
  free(in->functions);
  free(in->export_of);
  free(in->import_ctxs);
  in->bytes = NULL;
  in->functions = NULL;
  in->export_of = NULL;
  in->import_ctxs = NULL;
}

static void let_go(instance* in) {
  if (--in->holders > 0) return;
  free_runtime(in);
  free(in->imports);
  free(in);
}

/* Finalizers run outside JS: plain C only. */
static void buffer_finalized(napi_env env, void* data, void* hint) {
  (void)env;
  (void)data;
  let_go(hint);
}

static void wrapper_finalized(napi_env env, void* data, void* hint) {
  (void)hint;
  instance* in = data;
  for (uint32_t i = 0; i < in->num_imports; i++)
    if (in->imports[i]) napi_delete_reference(env, in->imports[i]);
  in->num_imports = 0;
  if (in->memory) napi_delete_reference(env, in->memory);
  in->memory = NULL;
  let_go(in);
}

static napi_value fail(napi_env env, const char* what, const char* why) {
  char text[300];
  snprintf(text, sizeof text, "wasm3: %s%s", what, why);
  napi_throw_error(env, NULL, text);
  return NULL;
}

/* Detaches the ArrayBuffer last handed out (its memory moved or is going away). */
static void detach_memory(napi_env env, instance* in) {
  if (in->memory == NULL) return;
  napi_value ab = NULL;
  if (napi_get_reference_value(env, in->memory, &ab) == napi_ok && ab != NULL) napi_detach_arraybuffer(env, ab);
  napi_delete_reference(env, in->memory);
  in->memory = NULL;
}

static void detach_if_moved(napi_env env, instance* in) {
  uint32_t size = 0;
  uint8_t* at = in->runtime && in->runtime->memory.mallocated ? m3_GetMemory(in->runtime, &size, 0) : NULL;
  if (at != in->memory_at || size != in->memory_size) detach_memory(env, in);
}

static napi_value to_js(napi_env env, M3ValueType t, const uint64_t* slot) {
  napi_value v = NULL;
  switch (t) {
    case c_m3Type_i32: napi_create_int32(env, *(const int32_t*)slot, &v); break;
    case c_m3Type_i64: napi_create_bigint_int64(env, *(const int64_t*)slot, &v); break;
    case c_m3Type_f32: napi_create_double(env, *(const float*)slot, &v); break;
    case c_m3Type_f64: napi_create_double(env, *(const double*)slot, &v); break;
    default: napi_get_undefined(env, &v); break;
  }
  return v;
}

/* A JS value as a wasm value of type t in *slot; false with a JS exception pending. */
static bool from_js(napi_env env, napi_value v, M3ValueType t, uint64_t* slot) {
  *slot = 0;
  napi_valuetype vt = napi_undefined;
  napi_typeof(env, v, &vt);
  bool lossless;
  int64_t i64;
  double f;
  switch (t) {
    case c_m3Type_i32:
    case c_m3Type_i64:
      if (vt == napi_bigint) {
        napi_get_value_bigint_int64(env, v, &i64, &lossless); /* wraps, as BigInt.asIntN */
      } else if (vt == napi_number) {
        int32_t i32;
        if (t == c_m3Type_i32) {
          napi_get_value_int32(env, v, &i32); /* ToInt32: 0xffffffff -> -1 */
          i64 = i32;
        } else {
          napi_get_value_int64(env, v, &i64);
        }
      } else {
        break;
      }
      if (t == c_m3Type_i32) *(int32_t*)slot = (int32_t)i64;
      else *(int64_t*)slot = i64;
      return true;
    case c_m3Type_f32:
    case c_m3Type_f64:
      if (vt != napi_number) break;
      napi_get_value_double(env, v, &f);
      if (t == c_m3Type_f32) *(float*)slot = (float)f;
      else *(double*)slot = f;
      return true;
    default:
      napi_throw_type_error(env, NULL, "wasm3: only i32, i64, f32 and f64 values cross the binding");
      return false;
  }
  napi_throw_type_error(env, NULL, "wasm3: expected a number (or a BigInt for i64)");
  return false;
}

/* Every function import lands here: results at sp[0..nret), arguments after. */
static const void* call_import(IM3Runtime runtime, IM3ImportContext ctx, uint64_t* sp, void* mem) {
  (void)runtime;
  (void)mem;
  import_ctx* c = ctx->userdata;
  instance* in = c->in;
  napi_env env = in->env;
  IM3Function f = ctx->function;
  uint32_t nargs = m3_GetArgCount(f), nrets = m3_GetRetCount(f);
  if (nargs > MAX_VALUES || nrets > 1) return "[trap] import signature not supported by the binding";
  /* The module may have grown its memory before calling out. */
  detach_if_moved(env, in);
  napi_value args[MAX_VALUES], fn, global, result;
  for (uint32_t i = 0; i < nargs; i++) args[i] = to_js(env, m3_GetArgType(f, i), &sp[nrets + i]);
  if (napi_get_reference_value(env, in->imports[c->index], &fn) != napi_ok) return host_threw;
  napi_get_global(env, &global);
  if (napi_call_function(env, global, fn, nargs, args, &result) != napi_ok) return host_threw;
  if (nrets == 1 && !from_js(env, result, m3_GetRetType(f, 0), &sp[0])) return host_threw;
  return m3Err_none;
}

static instance* open_instance(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  instance* in = NULL;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  if (napi_unwrap(env, self, (void**)&in) != napi_ok || in == NULL || in->runtime == NULL) {
    napi_throw_error(env, NULL, "wasm3: the instance is closed");
    return NULL;
  }
  in->env = env;
  return in;
}

/* Binds every function import to imports[module][name]; false with an exception pending. */
static bool link_imports(napi_env env, instance* in, napi_value imports) {
  IM3Module module = in->module;
  uint32_t n = module->numFuncImports;
  in->imports = calloc(n + 1, sizeof *in->imports);
  in->import_ctxs = calloc(n + 1, sizeof *in->import_ctxs);
  if (in->imports == NULL || in->import_ctxs == NULL) return fail(env, "out of memory", ""), false;
  for (uint32_t i = 0; i < n; i++) {
    M3Function* f = &module->functions[i];
    napi_value ns = NULL, fn = NULL;
    napi_valuetype t = napi_undefined;
    bool has = false;
    if (napi_has_named_property(env, imports, f->import.moduleUtf8, &has) == napi_ok && has &&
        napi_get_named_property(env, imports, f->import.moduleUtf8, &ns) == napi_ok &&
        napi_typeof(env, ns, &t) == napi_ok && t == napi_object &&
        napi_has_named_property(env, ns, f->import.fieldUtf8, &has) == napi_ok && has &&
        napi_get_named_property(env, ns, f->import.fieldUtf8, &fn) == napi_ok)
      napi_typeof(env, fn, &t);
    else
      t = napi_undefined;
    if (t != napi_function) {
      char text[200];
      snprintf(text, sizeof text, "wasm3: import %s.%s is not a function", f->import.moduleUtf8, f->import.fieldUtf8);
      napi_throw_type_error(env, NULL, text);
      return false;
    }
    if (napi_create_reference(env, fn, 1, &in->imports[i]) != napi_ok) return false;
    in->num_imports = i + 1;
    in->import_ctxs[i] = (import_ctx){in, i};
    M3Result r = m3_LinkRawFunctionEx(module, f->import.moduleUtf8, f->import.fieldUtf8, NULL, call_import, &in->import_ctxs[i]);
    if (r) return fail(env, "linking an import failed: ", r), false;
  }
  return true;
}

static bool list_exports(napi_env env, instance* in) {
  IM3Module m = in->module;
  in->export_of = calloc(m->numFunctions + 1, sizeof *in->export_of);
  in->functions = calloc(m->numFunctions + 1, sizeof *in->functions);
  if (in->export_of == NULL || in->functions == NULL) return fail(env, "out of memory", ""), false;
  for (uint32_t i = 0; i < m->numFunctions; i++)
    if (m->functions[i].export_name) in->export_of[in->num_exports++] = i;
  return true;
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  void* data;
  size_t len;
  napi_typedarray_type tt;
  napi_value ab;
  size_t offset;
  uint32_t stack_bytes, memory_limit;
  if (argc < 4 || napi_get_typedarray_info(env, argv[0], &tt, &len, &data, &ab, &offset) != napi_ok || tt != napi_uint8_array)
    return fail(env, "new Instance(bytes: Uint8Array, imports, stackBytes, memoryLimit)", "");
  if (napi_get_value_uint32(env, argv[2], &stack_bytes) != napi_ok || napi_get_value_uint32(env, argv[3], &memory_limit) != napi_ok)
    return fail(env, "stackBytes and memoryLimit must be numbers", "");

  instance* in = calloc(1, sizeof *in);
  if (in == NULL) return fail(env, "out of memory", "");
  in->env = env;
  in->holders = 1;
  if (napi_wrap(env, self, in, wrapper_finalized, NULL, NULL) != napi_ok) {
    free(in);
    return fail(env, "cannot wrap the instance", "");
  }
  in->bytes = malloc(len ? len : 1);
  if (in->bytes == NULL) return fail(env, "out of memory for the module bytes", "");
  memcpy(in->bytes, data, len);
  if ((in->m3env = m3_NewEnvironment()) == NULL) return fail(env, "out of memory for the environment", "");
  IM3Runtime runtime = m3_NewRuntime(in->m3env, stack_bytes, NULL);
  if (runtime == NULL) return fail(env, "out of memory for the runtime", "");
  runtime->memoryLimit = memory_limit; /* read when the module's memory is allocated, at load */
  M3Result r = m3_ParseModule(in->m3env, &in->module, in->bytes, (uint32_t)len);
  if (r) {
    m3_FreeRuntime(runtime);
    in->module = NULL;
    return fail(env, "parse: ", r);
  }
  r = m3_LoadModule(runtime, in->module);
  if (r) {
    m3_FreeRuntime(runtime);
    return fail(env, "load: ", r); /* the module is freed by free_runtime */
  }
  in->runtime = runtime; /* owns the module from here */
  if (!link_imports(env, in, argv[1]) || !list_exports(env, in)) {
    free_runtime(in);
    return NULL;
  }
  if ((r = m3_RunStart(in->module))) {
    free_runtime(in);
    return fail(env, "start: ", r);
  }
  return self;
}

static napi_value exports_list(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  instance* in = open_instance(env, info, &argc, NULL);
  if (in == NULL) return NULL;
  napi_value list;
  napi_create_array_with_length(env, in->num_exports, &list);
  for (uint32_t i = 0; i < in->num_exports; i++) {
    napi_value pair, name, index;
    napi_create_array_with_length(env, 2, &pair);
    napi_create_string_utf8(env, in->module->functions[in->export_of[i]].export_name, NAPI_AUTO_LENGTH, &name);
    napi_create_uint32(env, i, &index);
    napi_set_element(env, pair, 0, name);
    napi_set_element(env, pair, 1, index);
    napi_set_element(env, list, i, pair);
  }
  return list;
}

static napi_value globals_list(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  instance* in = open_instance(env, info, &argc, NULL);
  if (in == NULL) return NULL;
  napi_value list, name;
  napi_create_array(env, &list);
  for (uint32_t i = 0, n = 0; i < in->module->numGlobals; i++) {
    if (in->module->globals[i].name == NULL) continue;
    napi_create_string_utf8(env, in->module->globals[i].name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, list, n++, name);
  }
  return list;
}

static napi_value global_value(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  instance* in = open_instance(env, info, &argc, argv);
  if (in == NULL) return NULL;
  char name[256];
  size_t len;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) return fail(env, "global(name: string)", "");
  IM3Global g = m3_FindGlobal(in->module, name);
  if (g == NULL) return fail(env, "no global named ", name);
  M3TaggedValue v;
  M3Result r = m3_GetGlobal(g, &v);
  if (r) return fail(env, "reading a global: ", r);
  uint64_t slot = 0;
  memcpy(&slot, &v.value, sizeof v.value < sizeof slot ? sizeof v.value : sizeof slot);
  return to_js(env, v.type, &slot);
}

static napi_value call(napi_env env, napi_callback_info info) {
  size_t argc = MAX_VALUES + 1;
  napi_value argv[MAX_VALUES + 1];
  instance* in = open_instance(env, info, &argc, argv);
  if (in == NULL) return NULL;
  uint32_t index;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &index) != napi_ok || index >= in->num_exports)
    return fail(env, "call: no export with that index", "");
  IM3Function f = in->functions[index];
  if (f == NULL) {
    const char* name = in->module->functions[in->export_of[index]].export_name;
    M3Result r = m3_FindFunction(&f, in->runtime, name); /* compiles it */
    if (r) return fail(env, "compiling an export failed: ", r);
    in->functions[index] = f;
  }
  uint32_t nargs = m3_GetArgCount(f), nrets = m3_GetRetCount(f);
  if (nargs > MAX_VALUES || nrets > MAX_VALUES) return fail(env, "call: too many parameters or results", "");
  uint64_t args[MAX_VALUES], rets[MAX_VALUES];
  const void* argp[MAX_VALUES];
  const void* retp[MAX_VALUES];
  for (uint32_t i = 0; i < nargs; i++) {
    /* Missing arguments are undefined, as in WebAssembly's JS API: 0 for integers. */
    if (i + 1 < argc) {
      if (!from_js(env, argv[i + 1], m3_GetArgType(f, i), &args[i])) return NULL;
    } else {
      args[i] = 0;
    }
    argp[i] = &args[i];
  }
  M3Result r = m3_Call(f, nargs, argp);
  detach_if_moved(env, in);
  if (r == host_threw) return NULL; /* the import's exception is pending */
  if (r) return fail(env, "", r);
  for (uint32_t i = 0; i < nrets; i++) retp[i] = &rets[i];
  if (nrets > 0 && (r = m3_GetResults(f, nrets, retp))) return fail(env, "results: ", r);
  if (nrets == 0) {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  if (nrets == 1) return to_js(env, m3_GetRetType(f, 0), &rets[0]);
  napi_value list;
  napi_create_array_with_length(env, nrets, &list);
  for (uint32_t i = 0; i < nrets; i++) napi_set_element(env, list, i, to_js(env, m3_GetRetType(f, i), &rets[i]));
  return list;
}

static napi_value memory(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  instance* in = open_instance(env, info, &argc, NULL);
  if (in == NULL) return NULL;
  detach_if_moved(env, in);
  napi_value ab = NULL;
  if (in->memory && napi_get_reference_value(env, in->memory, &ab) == napi_ok && ab != NULL) return ab;
  if (in->memory) napi_delete_reference(env, in->memory); /* collected */
  in->memory = NULL;
  uint32_t size = 0;
  uint8_t* at = in->runtime->memory.mallocated ? m3_GetMemory(in->runtime, &size, 0) : NULL;
  if (at == NULL) return fail(env, "the module has no linear memory", "");
  if (napi_create_external_arraybuffer(env, at, size, buffer_finalized, in, &ab) != napi_ok) return fail(env, "cannot view the linear memory", "");
  in->holders++;
  napi_create_reference(env, ab, 0, &in->memory);
  in->memory_at = at;
  in->memory_size = size;
  return ab;
}

static napi_value grow(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  instance* in = open_instance(env, info, &argc, argv);
  if (in == NULL) return NULL;
  uint32_t pages;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &pages) != napi_ok) return fail(env, "grow(pages: number)", "");
  uint32_t before = in->runtime->memory.numPages;
  uint64_t want = (uint64_t)before + pages;
  M3Result r = want <= in->runtime->memory.maxPages ? ms_wasm3_resize_memory(in->runtime, (uint32_t)want, in->runtime->memoryLimit)
                                                     : m3Err_wasmMemoryOverflow;
  detach_if_moved(env, in);
  napi_create_int32(env, r ? -1 : (int32_t)before, &out);
  return out;
}

static napi_value close_instance(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self;
  instance* in = NULL;
  napi_get_cb_info(env, info, &argc, NULL, &self, NULL);
  if (napi_unwrap(env, self, (void**)&in) == napi_ok && in != NULL && in->runtime != NULL) {
    detach_memory(env, in);
    free_runtime(in);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"exports", NULL, exports_list, NULL, NULL, NULL, napi_default_method, NULL},
      {"globals", NULL, globals_list, NULL, NULL, NULL, napi_default_method, NULL},
      {"global", NULL, global_value, NULL, NULL, NULL, napi_default_method, NULL},
      {"call", NULL, call, NULL, NULL, NULL, napi_default_method, NULL},
      {"memory", NULL, memory, NULL, NULL, NULL, napi_default_method, NULL},
      {"grow", NULL, grow, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, close_instance, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "Instance", NAPI_AUTO_LENGTH, construct, NULL, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "Instance", cls);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
