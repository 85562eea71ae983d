/*
 * docs/embedding.md's C example, whole: the SDK counter
 * (contracts/counter) deployed at 5 and incremented by 2, its storage
 * kept by this program. crates/capi/tests/c.rs builds and runs it.
 *
 *   cc -I crates/capi/include counter.c target/debug/libward_capi.a -lm -ldl -lpthread
 *   ./a.out target/contracts/wasm32-unknown-unknown/release/counter.wasm
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward.h"

/* The contract's storage: a few keys and values. */
static struct {
  unsigned char key[64], value[64];
  size_t key_len, value_len;
} slots[8];
static size_t used = 0;

static int slot(const unsigned char *key, size_t len) {
  for (size_t i = 0; i < used; i++)
    if (slots[i].key_len == len && memcmp(slots[i].key, key, len) == 0) return (int)i;
  return -1;
}

/* Runs the call to its end, answering each request it makes. */
static int serve(struct WardCall *call) {
  while (ward_call_state(call) == WARD_CALL_STATE_SUSPENDED) {
    struct WardRequest r;
    ward_call_request(call, &r);
    int i = slot(r.key, r.key_len);
    enum WardStatus status;
    if (r.kind == WARD_REQUEST_KIND_STORAGE_READ) {
      status = i < 0 ? ward_call_reply_read(call, false, NULL, 0, NULL)
                     : ward_call_reply_read(call, true, slots[i].value, slots[i].value_len, NULL);
    } else if (r.kind == WARD_REQUEST_KIND_STORAGE_WRITE && r.key_len <= 64 && r.value_len <= 64) {
      if (i < 0) i = (int)used++;
      memcpy(slots[i].key, r.key, slots[i].key_len = r.key_len);
      memcpy(slots[i].value, r.value, slots[i].value_len = r.value_len);
      status = ward_call_reply_done(call, NULL);
    } else if (r.kind == WARD_REQUEST_KIND_EVENT) {
      status = ward_call_reply_done(call, NULL);
    } else {
      status = ward_call_reply_trap(call, "not served here", NULL);
    }
    if (status != WARD_STATUS_OK) return -1;
  }
  return 0;
}

/* Runs `entry` with `input`; returns the finished call or NULL. */
static struct WardCall *run(struct WardEngine *engine, struct WardModule *module,
                            const char *entry, struct WardBytes input) {
  struct WardCallOptions options;
  ward_call_options_default(&options);
  options.entry = entry;
  options.input = input.data;
  options.input_len = input.len;
  options.gas_limit = 1000000;
  struct WardCall *call = ward_call_begin(engine, module, &options, NULL);
  ward_bytes_free(input);
  if (call != NULL && serve(call) != 0) {
    ward_call_free(call);
    return NULL;
  }
  return call;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (f == NULL) return 2;
  static unsigned char wasm[1 << 20];
  size_t wasm_len = fread(wasm, 1, sizeof wasm, f);
  fclose(f);

  struct WardError *error = NULL;
  struct WardEngine *engine = ward_engine_new(NULL, &error); /* wasmtime, defaults */
  struct WardModule *module = engine ? ward_module_new(engine, wasm, wasm_len, &error) : NULL;
  if (module == NULL) {
    fprintf(stderr, "%s: %s\n", ward_error_kind(error), ward_error_message(error));
    ward_error_free(error);
    ward_engine_free(engine);
    return 1;
  }

  struct WardBytes input;
  ward_module_encode_init(module, "{\"start\": 5}", &input, NULL);
  struct WardCall *call = run(engine, module, "deploy", input);
  ward_call_free(call);

  ward_module_encode_call(module, "increment", "{\"by\": 2}", &input, NULL);
  call = run(engine, module, "main", input);
  struct WardOutcome outcome;
  if (call == NULL || ward_call_outcome(call, &outcome, NULL) != WARD_STATUS_OK) return 1;
  char *count = NULL;
  ward_module_decode_output(module, "increment", outcome.output, outcome.output_len, &count, NULL);
  printf("%s: count %s, %llu gas\n", outcome.status, count, (unsigned long long)outcome.gas_used);

  ward_string_free(count);
  ward_call_free(call);
  ward_module_free(module);
  ward_engine_free(engine);
  return 0;
}
