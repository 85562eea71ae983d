/*
 * The C API from C (crates/capi/tests/c.rs builds and runs this, plain
 * and under a sanitizer or valgrind): both backends, typed rejections,
 * the SDK token deployed and called with JSON arguments, its storage kept
 * in a map of this program's, its outputs and events decoded, the errors
 * of misuse, a spinning call cancelled from another thread, and every
 * object freed.
 *
 * Usage: ward_test TOKEN.wasm   (prints one line per step; the last is
 * "all passed", and the exit code is 0, when everything held)
 */

#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward.h"

static int failures = 0;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      failures++;                                                             \
      fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
      fprintf(stderr, __VA_ARGS__);                                           \
      fprintf(stderr, "\n");                                                  \
    }                                                                         \
  } while (0)

/* A contract's storage: a list of keys and values, each owned here. */
typedef struct {
  unsigned char *key, *value;
  size_t key_len, value_len;
} Entry;

typedef struct {
  Entry entries[64];
  size_t count;
  size_t events;
  char last_event[512];
} Storage;

static Entry *find(Storage *s, const unsigned char *key, size_t len) {
  for (size_t i = 0; i < s->count; i++) {
    if (s->entries[i].key_len == len && memcmp(s->entries[i].key, key, len) == 0) {
      return &s->entries[i];
    }
  }
  return NULL;
}

static unsigned char *copy(const unsigned char *data, size_t len) {
  unsigned char *out = malloc(len ? len : 1);
  if (len) memcpy(out, data, len);
  return out;
}

static void put(Storage *s, const unsigned char *key, size_t key_len,
                const unsigned char *value, size_t value_len) {
  Entry *e = find(s, key, key_len);
  if (e == NULL) {
    e = &s->entries[s->count++];
    e->key = copy(key, key_len);
    e->key_len = key_len;
  } else {
    free(e->value);
  }
  e->value = copy(value, value_len);
  e->value_len = value_len;
}

static void forget(Storage *s, const unsigned char *key, size_t key_len) {
  Entry *e = find(s, key, key_len);
  if (e == NULL) return;
  free(e->key);
  free(e->value);
  *e = s->entries[--s->count];
}

static void clear(Storage *s) {
  while (s->count > 0) forget(s, s->entries[0].key, s->entries[0].key_len);
}

static struct WardBytes encode(struct WardModule *module, const char *method, const char *json) {
  struct WardBytes bytes = {NULL, 0};
  struct WardError *error = NULL;
  enum WardStatus status = method ? ward_module_encode_call(module, method, json, &bytes, &error)
                                  : ward_module_encode_init(module, json, &bytes, &error);
  CHECK(status == WARD_STATUS_OK, "encode %s: %s", method ? method : "init",
        error ? ward_error_message(error) : "?");
  ward_error_free(error);
  return bytes;
}

/*
 * Runs `method` of `module` (NULL: its deploy) with the JSON arguments
 * `args` as `caller`, serving its requests from `storage`, and returns
 * the finished call (or NULL). This loop is the whole of a host: no
 * callback, one answer per request.
 */
static struct WardCall *run(struct WardEngine *engine, struct WardModule *module,
                            const char *method, const char *args,
                            const unsigned char caller[32], int read_only,
                            Storage *storage) {
  struct WardBytes input = encode(module, method, args);
  struct WardCallOptions options;
  ward_call_options_default(&options);
  options.entry = method ? "main" : "deploy";
  options.input = input.data;
  options.input_len = input.len;
  options.gas_limit = 10000000;
  memcpy(options.caller, caller, 32);
  memset(options.self_address, 0x70, 32);
  options.block_height = 7;
  options.block_time = 1700000000000ull;
  options.read_only = read_only;
  struct WardError *error = NULL;
  struct WardCall *call = ward_call_begin(engine, module, &options, &error);
  ward_bytes_free(input);
  CHECK(call != NULL, "begin: %s", error ? ward_error_message(error) : "?");
  if (call == NULL) {
    ward_error_free(error);
    return NULL;
  }
  while (ward_call_state(call) == WARD_CALL_STATE_SUSPENDED) {
    struct WardRequest request;
    CHECK(ward_call_request(call, &request) == WARD_STATUS_OK, "request");
    enum WardStatus status = WARD_STATUS_OK;
    switch (request.kind) {
      case WARD_REQUEST_KIND_STORAGE_READ: {
        Entry *e = find(storage, request.key, request.key_len);
        status = e ? ward_call_reply_read(call, true, e->value, e->value_len, &error)
                   : ward_call_reply_read(call, false, NULL, 0, &error);
        break;
      }
      case WARD_REQUEST_KIND_STORAGE_WRITE:
        put(storage, request.key, request.key_len, request.value, request.value_len);
        status = ward_call_reply_done(call, &error);
        break;
      case WARD_REQUEST_KIND_STORAGE_REMOVE:
        forget(storage, request.key, request.key_len);
        status = ward_call_reply_done(call, &error);
        break;
      case WARD_REQUEST_KIND_EVENT: {
        storage->events++;
        char *json = NULL;
        struct WardError *decode_error = NULL;
        if (ward_module_decode_event(module, request.topic, request.topic_len, request.value,
                                     request.value_len, &json, &decode_error) == WARD_STATUS_OK) {
          snprintf(storage->last_event, sizeof storage->last_event, "%s", json);
          ward_string_free(json);
        }
        ward_error_free(decode_error);
        status = ward_call_reply_done(call, &error);
        break;
      }
      default:
        status = ward_call_reply_trap(call, "this host serves no calls", &error);
    }
    CHECK(status == WARD_STATUS_OK, "reply: %s", error ? ward_error_message(error) : "?");
    ward_error_free(error);
    error = NULL;
  }
  return call;
}

/* The outcome's status, gas and output; checks the call finished. */
static struct WardOutcome outcome_of(struct WardCall *call) {
  struct WardOutcome outcome;
  memset(&outcome, 0, sizeof outcome);
  struct WardError *error = NULL;
  CHECK(ward_call_outcome(call, &outcome, &error) == WARD_STATUS_OK, "outcome: %s",
        error ? ward_error_message(error) : "?");
  ward_error_free(error);
  return outcome;
}

static char *decoded(struct WardModule *module, const char *method, struct WardOutcome *o) {
  char *json = NULL;
  struct WardError *error = NULL;
  CHECK(ward_module_decode_output(module, method, o->output, o->output_len, &json, &error) ==
            WARD_STATUS_OK,
        "decode: %s", error ? ward_error_message(error) : "?");
  ward_error_free(error);
  return json;
}

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
  *len = fread(data, 1, (size_t)size, f);
  fclose(f);
  return data;
}

/* Rejections are typed: a module that is not Wasm, one that imports
 * what Ward does not offer, and the same through ward_module_new. */
static void rejections(struct WardEngine *engine) {
  const unsigned char garbage[] = {0x00, 0x61, 0x73, 0x6d, 0x02};
  struct WardError *error = NULL;
  CHECK(ward_validate(engine, garbage, sizeof garbage, &error) == WARD_STATUS_REJECTED, "garbage");
  CHECK(error && strcmp(ward_error_kind(error), "invalid_wasm") == 0, "kind %s",
        error ? ward_error_kind(error) : "none");
  ward_error_free(error);
  error = NULL;
  /* (module (import "env" "open" (func)) (memory (export "memory") 1)
   *  (func (export "main"))) */
  const unsigned char unknown[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x6f, 0x70, 0x65, 0x6e, 0x00, 0x00,
      0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x11, 0x02, 0x06, 0x6d,
      0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x6d, 0x61, 0x69, 0x6e, 0x00, 0x01,
      0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
  struct WardModule *module = ward_module_new(engine, unknown, sizeof unknown, &error);
  CHECK(module == NULL, "an unknown import is refused");
  CHECK(error && ward_error_code(error) == WARD_STATUS_REJECTED, "rejected");
  CHECK(error && strcmp(ward_error_kind(error), "unknown_import") == 0, "kind %s",
        error ? ward_error_kind(error) : "none");
  ward_error_free(error);
  /* NULL where a pointer is required: an error, not a crash. */
  error = NULL;
  CHECK(ward_module_new(NULL, garbage, 1, &error) == NULL, "NULL engine");
  CHECK(error && ward_error_code(error) == WARD_STATUS_INVALID_ARGUMENT, "invalid argument");
  ward_error_free(error);
  CHECK(ward_validate(engine, NULL, 5, NULL) == WARD_STATUS_INVALID_ARGUMENT, "NULL bytes");
}

/* Deploys the token, transfers, reads, refuses; prints the gas used. */
static void token(struct WardEngine *engine, const unsigned char *wasm, size_t wasm_len,
                  const char *name) {
  struct WardError *error = NULL;
  struct WardModule *module = ward_module_new(engine, wasm, wasm_len, &error);
  CHECK(module != NULL, "token: %s", error ? ward_error_message(error) : "?");
  ward_error_free(error);
  if (module == NULL) return;
  unsigned char alice[32], bob[32];
  memset(alice, 0xa1, 32);
  memset(bob, 0xb0, 32);
  char bob_hex[67] = "0x";
  for (int i = 0; i < 32; i++) snprintf(bob_hex + 2 + 2 * i, 3, "%02x", bob[i]);
  Storage storage;
  memset(&storage, 0, sizeof storage);

  struct WardCall *call =
      run(engine, module, NULL, "{\"initial_supply\": \"1000\"}", alice, 0, &storage);
  struct WardOutcome o = outcome_of(call);
  CHECK(strcmp(o.status, "ok") == 0, "deploy: %s", o.status);
  printf("%s deploy gas %llu\n", name, (unsigned long long)o.gas_used);
  ward_call_free(call);

  char args[256];
  snprintf(args, sizeof args, "{\"to\": \"%s\", \"amount\": \"250\"}", bob_hex);
  call = run(engine, module, "transfer", args, alice, 0, &storage);
  o = outcome_of(call);
  CHECK(strcmp(o.status, "ok") == 0, "transfer: %s", o.status);
  CHECK(strstr(storage.last_event, "\"Transfer\"") != NULL, "event %s", storage.last_event);
  CHECK(strstr(storage.last_event, "\"250\"") != NULL, "event %s", storage.last_event);
  printf("%s transfer gas %llu event %s\n", name, (unsigned long long)o.gas_used,
         storage.last_event);
  ward_call_free(call);

  snprintf(args, sizeof args, "{\"who\": \"%s\"}", bob_hex);
  call = run(engine, module, "balance_of", args, alice, 1, &storage);
  o = outcome_of(call);
  char *json = decoded(module, "balance_of", &o);
  CHECK(json && strcmp(json, "\"250\"") == 0, "balance %s", json ? json : "?");
  printf("%s balance_of gas %llu -> %s\n", name, (unsigned long long)o.gas_used, json);
  ward_string_free(json);
  ward_call_free(call);

  /* A transfer in a read-only call traps before the host sees it. */
  size_t entries = storage.count, events = storage.events;
  snprintf(args, sizeof args, "{\"to\": \"%s\", \"amount\": \"1\"}", bob_hex);
  call = run(engine, module, "transfer", args, alice, 1, &storage);
  o = outcome_of(call);
  CHECK(strcmp(o.status, "trapped") == 0, "read-only transfer: %s", o.status);
  CHECK(o.error_kind && strcmp(o.error_kind, "host_error") == 0, "kind %s",
        o.error_kind ? o.error_kind : "none");
  CHECK(storage.count == entries && storage.events == events, "nothing written");
  ward_call_free(call);

  /* More than Alice holds: a revert with the contract's message. */
  snprintf(args, sizeof args, "{\"to\": \"%s\", \"amount\": \"5000\"}", bob_hex);
  call = run(engine, module, "transfer", args, alice, 0, &storage);
  o = outcome_of(call);
  CHECK(strcmp(o.status, "reverted") == 0, "overdraft: %s", o.status);
  printf("%s overdraft gas %llu: %.*s\n", name, (unsigned long long)o.gas_used,
         (int)o.output_len, (const char *)o.output);
  ward_call_free(call);

  /* Bad JSON arguments: a typed error naming the signature. */
  struct WardBytes none = {NULL, 0};
  error = NULL;
  CHECK(ward_module_encode_call(module, "transfer", "{\"to\": 5}", &none, &error) ==
            WARD_STATUS_BAD_ARGUMENTS,
        "bad arguments");
  ward_error_free(error);

  /* Misuse of a call: the wrong reply is refused and changes nothing; a
   * reply to a finished call is refused; its outcome waits. */
  snprintf(args, sizeof args, "{\"who\": \"%s\"}", bob_hex);
  struct WardBytes input = encode(module, "balance_of", args);
  struct WardCallOptions options;
  ward_call_options_default(&options);
  options.input = input.data;
  options.input_len = input.len;
  call = ward_call_begin(engine, module, &options, NULL);
  ward_bytes_free(input);
  CHECK(ward_call_state(call) == WARD_CALL_STATE_SUSPENDED, "a read waits");
  error = NULL;
  CHECK(ward_call_outcome(call, &o, &error) == WARD_STATUS_STATE, "no outcome yet");
  ward_error_free(error);
  error = NULL;
  CHECK(ward_call_reply_done(call, &error) == WARD_STATUS_STATE, "a read is not done");
  ward_error_free(error);
  CHECK(ward_call_reply_read(call, false, NULL, 0, NULL) == WARD_STATUS_OK, "the read");
  CHECK(ward_call_state(call) == WARD_CALL_STATE_FINISHED, "finished");
  CHECK(ward_call_reply_done(call, NULL) == WARD_STATUS_STATE, "nothing to answer");
  ward_call_free(call);

  clear(&storage);
  ward_module_free(module);
}

/* Raises the flag after 20 ms (or at once on a machine slow to start the
 * call: the outcome is the same). */
static void *cancel_later(void *cancel) {
  struct timespec wait = {0, 20 * 1000 * 1000};
  nanosleep(&wait, NULL);
  ward_call_cancel(cancel);
  return NULL;
}

/* A spinning call, with more gas than it could burn, ends when another
 * thread raises its flag: status timeout, error kind cancelled. */
static void cancellation(struct WardEngine *engine, const char *name) {
  /* (module (memory (export "memory") 1) (func (export "main") (loop (br 0)))) */
  const unsigned char spin[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00,
      0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x11, 0x02,
      0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x6d, 0x61, 0x69,
      0x6e, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b};
  struct WardError *error = NULL;
  struct WardModule *module = ward_module_new(engine, spin, sizeof spin, &error);
  CHECK(module != NULL, "spin: %s", error ? ward_error_message(error) : "?");
  ward_error_free(error);
  if (module == NULL) return;
  struct WardCancel *cancel = ward_cancel_new();
  struct WardCallOptions options;
  ward_call_options_default(&options);
  options.gas_limit = UINT64_MAX;
  options.cancel = cancel;
  pthread_t canceller;
  CHECK(pthread_create(&canceller, NULL, cancel_later, cancel) == 0, "a thread");
  struct WardCall *call = ward_call_begin(engine, module, &options, NULL);
  pthread_join(canceller, NULL);
  CHECK(call != NULL, "begun");
  if (call != NULL) {
    CHECK(ward_call_state(call) == WARD_CALL_STATE_FINISHED, "finished");
    struct WardOutcome o = outcome_of(call);
    CHECK(strcmp(o.status, "timeout") == 0, "status %s", o.status);
    CHECK(o.error_kind && strcmp(o.error_kind, "cancelled") == 0, "kind %s",
          o.error_kind ? o.error_kind : "none");
    printf("%s: a spinning call cancelled from another thread: %s\n", name, o.error_kind);
    ward_call_free(call);
  }
  /* The flag may be freed first; raising NULL is nothing. */
  ward_cancel_free(cancel);
  ward_call_cancel(NULL);
  ward_cancel_free(NULL);
  ward_module_free(module);
}

/* A parent that runs a child spinning forever with all of its call's gas
 * (PARENT.wasm: ward_testkit::spinning_parent) stops as the call does:
 * `timeout` when the engine's backstop runs out, `cancelled` when another
 * thread raises the call's flag. */
static void children(enum WardBackend backend, const char *name,
                     const unsigned char *parent, size_t parent_len) {
  for (int timed = 0; timed < 2; timed++) {
    struct WardEngineOptions engine_options;
    ward_engine_options_default(&engine_options);
    CHECK(!engine_options.children, "no children by default");
    engine_options.backend = backend;
    engine_options.children = true;
    engine_options.timeout_ms = timed ? 50 : 0;
    struct WardError *error = NULL;
    struct WardEngine *engine = ward_engine_new(&engine_options, &error);
    CHECK(engine != NULL, "engine: %s", error ? ward_error_message(error) : "?");
    ward_error_free(error);
    if (engine == NULL) return;
    struct WardModule *module = ward_module_new(engine, parent, parent_len, &error);
    CHECK(module != NULL, "parent: %s", error ? ward_error_message(error) : "?");
    ward_error_free(error);
    struct WardCancel *cancel = timed ? NULL : ward_cancel_new();
    struct WardCallOptions options;
    ward_call_options_default(&options);
    options.gas_limit = (uint64_t)1 << 50;
    options.cancel = cancel;
    pthread_t canceller;
    if (cancel) CHECK(pthread_create(&canceller, NULL, cancel_later, cancel) == 0, "a thread");
    struct WardCall *call = module ? ward_call_begin(engine, module, &options, NULL) : NULL;
    if (cancel) pthread_join(canceller, NULL);
    CHECK(call != NULL, "begun");
    if (call != NULL) {
      CHECK(ward_call_state(call) == WARD_CALL_STATE_FINISHED, "finished");
      struct WardOutcome o = outcome_of(call);
      const char *want = timed ? "timeout" : "cancelled";
      CHECK(strcmp(o.status, "timeout") == 0, "status %s", o.status);
      CHECK(o.error_kind && strcmp(o.error_kind, want) == 0, "kind %s, want %s",
            o.error_kind ? o.error_kind : "none", want);
      printf("%s: a spinning child stopped by its call's %s: %s\n", name,
             timed ? "timeout" : "cancel flag", o.error_kind ? o.error_kind : "none");
      ward_call_free(call);
    }
    ward_cancel_free(cancel);
    ward_module_free(module);
    ward_engine_free(engine);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s TOKEN.wasm PARENT.wasm\n", argv[0]);
    return 2;
  }
  size_t parent_len = 0;
  unsigned char *parent = read_file(argv[2], &parent_len);
  if (parent == NULL) {
    fprintf(stderr, "cannot read %s\n", argv[2]);
    return 2;
  }
  size_t wasm_len = 0;
  unsigned char *wasm = read_file(argv[1], &wasm_len);
  if (wasm == NULL) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  printf("%s\n", ward_version());
  const enum WardBackend backends[2] = {WARD_BACKEND_WASMTIME, WARD_BACKEND_WASMI};
  const char *names[2] = {"wasmtime", "wasmi"};
  for (int i = 0; i < 2; i++) {
    struct WardEngineOptions options;
    ward_engine_options_default(&options);
    options.backend = backends[i];
    struct WardError *error = NULL;
    struct WardEngine *engine = ward_engine_new(&options, &error);
    CHECK(engine != NULL, "engine: %s", error ? ward_error_message(error) : "?");
    ward_error_free(error);
    if (engine == NULL) continue;
    CHECK(ward_engine_health(engine, NULL) == WARD_STATUS_OK, "a healthy engine");
    rejections(engine);
    token(engine, wasm, wasm_len, names[i]);
    cancellation(engine, names[i]);
    ward_engine_free(engine);
    children(backends[i], names[i], parent, parent_len);
  }
  free(wasm);
  free(parent);
  /* Freeing NULL is nothing. */
  ward_engine_free(NULL);
  ward_module_free(NULL);
  ward_call_free(NULL);
  ward_error_free(NULL);
  ward_string_free(NULL);
  if (failures) {
    printf("%d failed\n", failures);
    return 1;
  }
  printf("all passed\n");
  return 0;
}
