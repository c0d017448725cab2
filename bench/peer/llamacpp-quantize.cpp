// Requantises a GGUF with llama.cpp's own llama_model_quantize (the prebuilt v0.4.0 library that
// ../shared/peers/llamacpp installs), for the peer side of `npm run bench:decode`: the converter
// writes bf16 / q8_0 only, so q4_0 is made from those here.
// usage: llamacpp-quantize <in.gguf> <out.gguf> <q4_0|q8_0> [threads=2]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "ggml-backend.h"
#include "llama.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <in.gguf> <out.gguf> <q4_0|q8_0> [threads]\n", argv[0]);
    return 2;
  }
  llama_model_quantize_params p = llama_model_quantize_default_params();
  if (!strcmp(argv[3], "q4_0")) p.ftype = LLAMA_FTYPE_MOSTLY_Q4_0;
  else if (!strcmp(argv[3], "q8_0")) p.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
  else {
    fprintf(stderr, "unknown type %s\n", argv[3]);
    return 2;
  }
  p.nthread = argc > 4 ? atoi(argv[4]) : 2;
  p.allow_requantize = true;  // the source may be q8_0
  if (const char* bins = getenv("LLAMA_BINS")) ggml_backend_load_all_from_path(bins);
  else ggml_backend_load_all();
  llama_backend_init();
  const uint32_t rc = llama_model_quantize(argv[1], argv[2], &p);
  llama_backend_free();
  return rc == 0 ? 0 : 1;
}
