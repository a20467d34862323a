/* OpenBLAS reference for `npm run bench`: times cblas_sgemm (row-major, optional transposes, a batch looped) and
 * prints one JSON object. Reference: OpenBLAS cblas_sgemm, https://github.com/OpenMathLib/OpenBLAS/wiki/User-Manual
 *
 *   gemm_openblas bench THREADS WARMUP WARMUP_MS REPEATS BATCH M N K TRANSA TRANSB
 *       C[b] (M×N) = op(A[b]) · op(B[b]); op(X) = Xᵀ when its flag is 1; A stored K×M when transposed, else M×K.
 *       Warmup: at least WARMUP untimed calls and until WARMUP_MS have passed (at most 1000 calls).
 *       Prints {"samples_ms":[...],"threads":T,"config":"<openblas_get_config()>"}.
 *   gemm_openblas check M N K TRANSA TRANSB
 *       One product of the fixed fill below, single thread; prints {"c":[...]} (row-major M×N) for a test to compare.
 *
 * Fill (shared with test/bench/openblas.test.ts): A[i] = ((7i + 3) mod 17 − 8) / 8, B[i] = ((5i + 1) mod 13 − 6) / 6.
 * Compile: gcc -O2 gemm_openblas.c -o gemm_openblas -lopenblas
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fill(float *x, size_t n, unsigned mul, unsigned add, unsigned mod, float center, float scale) {
  for (size_t i = 0; i < n; i++) x[i] = ((float)((mul * i + add) % mod) - center) / scale;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long arg(char **argv, int i, const char *name, long min) {
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end || v < min) {
    fprintf(stderr, "gemm_openblas: %s must be an integer >= %ld, got \"%s\"\n", name, min, argv[i]);
    exit(2);
  }
  return v;
}

static void *alloc(size_t floats) {
  void *p = NULL;
  if (posix_memalign(&p, 64, floats * sizeof(float) + 64)) {
    fprintf(stderr, "gemm_openblas: out of memory (%zu floats)\n", floats);
    exit(3);
  }
  return p;
}

/* C[b] = op(A[b]) op(B[b]) for every b. */
static void gemm(long batch, long m, long n, long k, int ta, int tb, const float *a, const float *b, float *c) {
  for (long i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, a + i * m * k, ta ? (int)m : (int)k, b + i * k * n, tb ? (int)k : (int)n, 0.0f, c + i * m * n,
                (int)n);
  }
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s >= 0x20) putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  int bench = argc == 12 && !strcmp(argv[1], "bench"), check = argc == 7 && !strcmp(argv[1], "check");
  if (!bench && !check) {
    fprintf(stderr, "usage: gemm_openblas bench THREADS WARMUP WARMUP_MS REPEATS BATCH M N K TRANSA TRANSB\n"
                    "       gemm_openblas check M N K TRANSA TRANSB\n");
    return 2;
  }
  int at = bench ? 6 : 1; /* M is argv[at + 1]: BATCH comes before it in bench mode, the word "check" in check mode */
  long threads = bench ? arg(argv, 2, "THREADS", 1) : 1;
  long warmup = bench ? arg(argv, 3, "WARMUP", 0) : 0;
  long warmup_ms = bench ? arg(argv, 4, "WARMUP_MS", 0) : 0;
  long repeats = bench ? arg(argv, 5, "REPEATS", 1) : 1;
  long batch = bench ? arg(argv, at, "BATCH", 1) : 1;
  long m = arg(argv, at + 1, "M", 1), n = arg(argv, at + 2, "N", 1), k = arg(argv, at + 3, "K", 1);
  long ta = arg(argv, at + 4, "TRANSA", 0), tb = arg(argv, at + 5, "TRANSB", 0);
  if (ta > 1 || tb > 1) {
    fprintf(stderr, "gemm_openblas: TRANSA and TRANSB must be 0 or 1\n");
    return 2;
  }
  openblas_set_num_threads((int)threads);
  float *a = alloc((size_t)(batch * m * k)), *b = alloc((size_t)(batch * k * n)), *c = alloc((size_t)(batch * m * n));
  fill(a, (size_t)(batch * m * k), 7, 3, 17, 8, 8);
  fill(b, (size_t)(batch * k * n), 5, 1, 13, 6, 6);
  memset(c, 0, (size_t)(batch * m * n) * sizeof(float));
  if (check) {
    gemm(1, m, n, k, (int)ta, (int)tb, a, b, c);
    printf("{\"c\":[");
    for (long i = 0; i < m * n; i++) printf(i ? ",%.9g" : "%.9g", c[i]);
    printf("]}\n");
  } else {
    double until = now_ms() + (double)warmup_ms;
    for (long i = 0; i < 1000 && (i < warmup || now_ms() < until); i++) gemm(batch, m, n, k, (int)ta, (int)tb, a, b, c);
    printf("{\"samples_ms\":[");
    for (long i = 0; i < repeats; i++) {
      double start = now_ms();
      gemm(batch, m, n, k, (int)ta, (int)tb, a, b, c);
      printf(i ? ",%.6f" : "%.6f", now_ms() - start);
    }
    printf("],\"threads\":%d,\"config\":", openblas_get_num_threads());
    json_string(openblas_get_config());
    printf("}\n");
  }
  free(a);
  free(b);
  free(c);
  return 0;
}
