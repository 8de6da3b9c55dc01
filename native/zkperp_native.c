/* zkperp_native: the BLS12-381 scalar field, Poseidon and Jubjub EdDSA verification in C.
 *
 * A fast twin of protocol/poseidon.py, protocol/jubjub.py and protocol/eddsa.py, which stay the
 * reference (tests/protocol/test_native.py compares the two on random inputs and on the
 * known-answer vectors). Built by `make setup` (scripts/build_native.py) and loaded, where built
 * for the current source, by protocol/native.py; without it the rules run on the Python code.
 *
 * Nothing here is a table of the protocol's: the Poseidon instances (the optimized rounds of
 * protocol.poseidon._fast_rounds: folded constants, sparse partial-round matrices) and the curve
 * (d, the generator, the subgroup order) are handed in by Python at import (poseidon_init,
 * jubjub_init). The only constant is the field's modulus, which init checks against Python's.
 *
 * Field elements are 4 x 64-bit limbs, little-endian, in Montgomery form (x * 2^256 mod r),
 * multiplied by CIOS Montgomery multiplication: on x86-64 CPUs with BMI2 and ADX (cpuid, at
 * import) in mulx/adcx/adox assembly, elsewhere in C on unsigned __int128 (`kernels()`,
 * `set_kernel()`: the tests run both); additions and subtractions use the carry intrinsics on
 * x86-64. Every integer from Python
 * must be a canonical element (an exact int in [0, r)); anything else raises the FieldError class
 * given at init, with the reference's message. Curve points use extended twisted Edwards
 * coordinates (X, Y, Z, T) with the same complete a = -1 formulas as protocol/jubjub.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86_CARRY 1
#include <cpuid.h>
#include <x86intrin.h>
#else
#define HAVE_X86_CARRY 0
#endif

typedef unsigned __int128 u128;
typedef struct {
    uint64_t v[4];
} fe;

/* r = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001 */
static const uint64_t MOD[4] = {0xFFFFFFFF00000001ULL, 0x53BDA402FFFE5BFEULL,
                                0x3339D80809A1D805ULL, 0x73EDA753299D7D48ULL};
static uint64_t INV;   /* -r^-1 mod 2^64 */
static fe R2;          /* 2^512 mod r: to Montgomery form */
static fe ONE;         /* 1 in Montgomery form */
static PyObject *FIELD_ERROR = NULL;
static int HAS_ADX = 0; /* the CPU has BMI2 (mulx) and ADX (adcx, adox) */
static int USE_ADX = 0; /* fe_mul uses them: HAS_ADX unless set_kernel("portable") */

static inline void reduce_once(fe *out, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3);

/* -- the field -------------------------------------------------------------------------------- */

static int geq_mod(const uint64_t *t) {
    for (int i = 3; i >= 0; i--) {
        if (t[i] != MOD[i]) return t[i] > MOD[i];
    }
    return 1;
}

static inline void fe_add(fe *out, const fe *a, const fe *b) {
    /* a, b < r < 2^255: the sum fits in 256 bits */
#if HAVE_X86_CARRY
    unsigned long long t0, t1, t2, t3;
    unsigned char c = _addcarry_u64(0, a->v[0], b->v[0], &t0);
    c = _addcarry_u64(c, a->v[1], b->v[1], &t1);
    c = _addcarry_u64(c, a->v[2], b->v[2], &t2);
    _addcarry_u64(c, a->v[3], b->v[3], &t3);
    reduce_once(out, t0, t1, t2, t3);
#else
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)a->v[i] + b->v[i];
        out->v[i] = (uint64_t)c;
        c >>= 64;
    }
    reduce_once(out, out->v[0], out->v[1], out->v[2], out->v[3]);
#endif
}

static inline void fe_sub(fe *out, const fe *a, const fe *b) {
#if HAVE_X86_CARRY
    unsigned long long t0, t1, t2, t3;
    unsigned char c = _subborrow_u64(0, a->v[0], b->v[0], &t0);
    c = _subborrow_u64(c, a->v[1], b->v[1], &t1);
    c = _subborrow_u64(c, a->v[2], b->v[2], &t2);
    c = _subborrow_u64(c, a->v[3], b->v[3], &t3);
    uint64_t mask = (uint64_t)0 - c; /* add r back when a < b */
    c = _addcarry_u64(0, t0, MOD[0] & mask, &t0);
    c = _addcarry_u64(c, t1, MOD[1] & mask, &t1);
    c = _addcarry_u64(c, t2, MOD[2] & mask, &t2);
    _addcarry_u64(c, t3, MOD[3] & mask, &t3);
    out->v[0] = t0;
    out->v[1] = t1;
    out->v[2] = t2;
    out->v[3] = t3;
#else
    uint64_t borrow = 0, t[4];
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->v[i] - b->v[i] - borrow;
        t[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    if (borrow) {
        u128 c = 0;
        for (int i = 0; i < 4; i++) {
            c += (u128)t[i] + MOD[i];
            t[i] = (uint64_t)c;
            c >>= 64;
        }
    }
    memcpy(out->v, t, sizeof t);
#endif
}

static inline void fe_neg(fe *out, const fe *a) {
    fe zero = {{0, 0, 0, 0}};
    fe_sub(out, &zero, a);
}

/* t mod r for t < 2r, without branches (the comparison is unpredictable) */
static inline void reduce_once(fe *out, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3) {
    uint64_t s0, s1, s2, s3, borrow;
#if HAVE_X86_CARRY
    unsigned long long d0, d1, d2, d3;
    unsigned char b = _subborrow_u64(0, t0, MOD[0], &d0);
    b = _subborrow_u64(b, t1, MOD[1], &d1);
    b = _subborrow_u64(b, t2, MOD[2], &d2);
    borrow = _subborrow_u64(b, t3, MOD[3], &d3);
    s0 = d0, s1 = d1, s2 = d2, s3 = d3;
#else
    u128 d = (u128)t0 - MOD[0];
    s0 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
    d = (u128)t1 - MOD[1] - borrow;
    s1 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
    d = (u128)t2 - MOD[2] - borrow;
    s2 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
    d = (u128)t3 - MOD[3] - borrow;
    s3 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
#endif
    uint64_t keep = (uint64_t)0 - borrow; /* all ones when t < r: keep t */
    out->v[0] = (t0 & keep) | (s0 & ~keep);
    out->v[1] = (t1 & keep) | (s1 & ~keep);
    out->v[2] = (t2 & keep) | (s2 & ~keep);
    out->v[3] = (t3 & keep) | (s3 & ~keep);
}

/* Montgomery multiplication, CIOS with the "no-carry" shortcut (gnark-crypto's): valid because
 * the modulus's top limb is below 2^63 - 1, so each row's running sum fits in 4 limbs + 1 bit. */
static inline void fe_mul_portable(fe *out, const fe *a, const fe *b) {
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t bi = b->v[i];
        u128 x = (u128)a->v[0] * bi + t0;
        uint64_t A = (uint64_t)(x >> 64), lo = (uint64_t)x;
        uint64_t m = lo * INV;
        u128 y = (u128)m * MOD[0] + lo;
        uint64_t C = (uint64_t)(y >> 64);
        x = (u128)a->v[1] * bi + t1 + A;
        A = (uint64_t)(x >> 64);
        y = (u128)m * MOD[1] + (uint64_t)x + C;
        C = (uint64_t)(y >> 64);
        t0 = (uint64_t)y;
        x = (u128)a->v[2] * bi + t2 + A;
        A = (uint64_t)(x >> 64);
        y = (u128)m * MOD[2] + (uint64_t)x + C;
        C = (uint64_t)(y >> 64);
        t1 = (uint64_t)y;
        x = (u128)a->v[3] * bi + t3 + A;
        A = (uint64_t)(x >> 64);
        y = (u128)m * MOD[3] + (uint64_t)x + C;
        C = (uint64_t)(y >> 64);
        t2 = (uint64_t)y;
        t3 = C + A;
    }
    reduce_once(out, t0, t1, t2, t3);
}

#if HAVE_X86_CARRY
/* The same CIOS multiplication with BMI2's mulx and ADX's two carry chains (adcx on CF, adox on
 * OF), as gnark-crypto's and blst's x86-64 code does; about 1.5x the portable one. Only called
 * where cpuid reports both (USE_ADX). One row per limb of b: t += a * b_i, then
 * m = t_0 * INV and t = (t + m * r) / 2^64. t stays below 2r < 2^256 between rows, and a row's
 * sums below 2^320, so five registers hold it; they rotate, since t_0 is zero after the row. */
#define ADX_ROW(YOFF, T0, T1, T2, T3, T4)                                                           \
    "movq " YOFF "(%[b]), %%rdx\n\t"                                                              \
    "xorl %%eax, %%eax\n\t"                                                                       \
    "mulxq 0(%[a]), %[lo], %[hi]\n\t"                                                             \
    "adoxq %[lo], %[" T0 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T1 "]\n\t"                                                                  \
    "mulxq 8(%[a]), %[lo], %[hi]\n\t"                                                             \
    "adoxq %[lo], %[" T1 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T2 "]\n\t"                                                                  \
    "mulxq 16(%[a]), %[lo], %[hi]\n\t"                                                            \
    "adoxq %[lo], %[" T2 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T3 "]\n\t"                                                                  \
    "mulxq 24(%[a]), %[lo], %[hi]\n\t"                                                            \
    "adoxq %[lo], %[" T3 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T4 "]\n\t"                                                                  \
    "adoxq %%rax, %[" T4 "]\n\t"                                                                  \
    "movq %[inv], %%rdx\n\t"                                                                      \
    "imulq %[" T0 "], %%rdx\n\t"                                                                  \
    "xorl %%eax, %%eax\n\t"                                                                       \
    "mulxq 0(%[r]), %[lo], %[hi]\n\t"                                                             \
    "adoxq %[lo], %[" T0 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T1 "]\n\t"                                                                  \
    "mulxq 8(%[r]), %[lo], %[hi]\n\t"                                                             \
    "adoxq %[lo], %[" T1 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T2 "]\n\t"                                                                  \
    "mulxq 16(%[r]), %[lo], %[hi]\n\t"                                                            \
    "adoxq %[lo], %[" T2 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T3 "]\n\t"                                                                  \
    "mulxq 24(%[r]), %[lo], %[hi]\n\t"                                                            \
    "adoxq %[lo], %[" T3 "]\n\t"                                                                  \
    "adcxq %[hi], %[" T4 "]\n\t"                                                                  \
    "adoxq %%rax, %[" T4 "]\n\t"

static inline void fe_mul_adx(fe *out, const fe *a, const fe *b) {
    uint64_t r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, lo, hi;
    __asm__(ADX_ROW("0", "r0", "r1", "r2", "r3", "r4")   /* t = r0..r4 */
            ADX_ROW("8", "r1", "r2", "r3", "r4", "r0")   /* r0 is zero now: the new top */
            ADX_ROW("16", "r2", "r3", "r4", "r0", "r1")
            ADX_ROW("24", "r3", "r4", "r0", "r1", "r2")  /* the product: r4, r0, r1, r2 */
            : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [r4] "+&r"(r4),
              [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [a] "r"(a->v), [b] "r"(b->v), [r] "r"(MOD), [inv] "m"(INV)
            : "rax", "rdx", "cc", "memory");
    reduce_once(out, r4, r0, r1, r2);
}
#endif

/* The multiplication every caller uses: the ADX kernel where the CPU has it (a predictable
 * branch), else the portable one. set_kernel switches it (for the tests of both). */
static inline void fe_mul(fe *out, const fe *a, const fe *b) {
#if HAVE_X86_CARRY
    if (USE_ADX) {
        fe_mul_adx(out, a, b);
        return;
    }
#endif
    fe_mul_portable(out, a, b);
}

static inline int fe_is_zero(const fe *a) { return !(a->v[0] | a->v[1] | a->v[2] | a->v[3]); }
static inline int fe_eq(const fe *a, const fe *b) { return !memcmp(a->v, b->v, sizeof a->v); }

static void fe_to_mont(fe *out, const fe *raw) { fe_mul(out, raw, &R2); }

static void fe_from_mont(fe *out, const fe *a) {
    fe one_raw = {{1, 0, 0, 0}};
    fe_mul(out, a, &one_raw);
}

/* a^e for a little-endian exponent of `limbs` 64-bit words: 4-bit fixed window, leading zero
 * windows skipped */
static void fe_pow(fe *out, const fe *a, const uint64_t *e, int limbs) {
    fe table[16], acc = ONE;
    table[0] = ONE;
    for (int i = 1; i < 16; i++) fe_mul(&table[i], &table[i - 1], a);
    int started = 0;
    for (int w = limbs * 16 - 1; w >= 0; w--) {
        unsigned nib = (unsigned)(e[w / 16] >> (4 * (w % 16)) & 0xF);
        if (started)
            for (int i = 0; i < 4; i++) fe_mul(&acc, &acc, &acc);
        if (nib) {
            fe_mul(&acc, &acc, &table[nib]);
            started = 1;
        }
    }
    *out = acc;
}

static void fe_inv(fe *out, const fe *a) { /* a^(r-2); 0 gives 0 */
    uint64_t e[4];
    memcpy(e, MOD, sizeof e);
    e[0] -= 2;
    fe_pow(out, a, e, 4);
}

static void field_setup(void) {
#if HAVE_X86_CARRY
    unsigned eax, ebx, ecx, edx;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        HAS_ADX = (ebx >> 8 & 1) && (ebx >> 19 & 1); /* leaf 7: EBX bit 8 BMI2, bit 19 ADX */
#endif
    USE_ADX = HAS_ADX;
    uint64_t inv = 1;
    for (int i = 0; i < 7; i++) inv *= 2 - MOD[0] * inv; /* Newton: inv = r^-1 mod 2^64 */
    INV = (uint64_t)0 - inv;
    fe x = {{1, 0, 0, 0}};
    for (int i = 0; i < 512; i++) fe_add(&x, &x, &x); /* 2^512 mod r, by doubling */
    R2 = x;
    fe one_raw = {{1, 0, 0, 0}};
    fe_to_mont(&ONE, &one_raw);
}

/* -- crossing the boundary ---------------------------------------------------------------------- */

static int raise_not_canonical(PyObject *o) {
    PyObject *repr = PyObject_Repr(o);
    if (repr != NULL) {
        PyErr_Format(FIELD_ERROR ? FIELD_ERROR : PyExc_ValueError,
                     "not a canonical field element: %U", repr);
        Py_DECREF(repr);
    }
    return -1;
}

/* The raw (not Montgomery) limbs of an exact int in [0, 2^256); -1 with no exception set when
 * it is not one (a negative value, a bool, another type, too wide). */
static int int_to_raw(PyObject *o, fe *raw) {
    unsigned char buf[32];
    if (!PyLong_CheckExact(o)) return -1;
#if PY_VERSION_HEX >= 0x030D0000
    Py_ssize_t n = PyLong_AsNativeBytes(o, buf, 32,
                                        Py_ASNATIVEBYTES_LITTLE_ENDIAN |
                                            Py_ASNATIVEBYTES_UNSIGNED_BUFFER |
                                            Py_ASNATIVEBYTES_REJECT_NEGATIVE);
    if (n < 0 || n > 32) {
        PyErr_Clear();
        return -1;
    }
#else
    if (_PyLong_AsByteArray((PyLongObject *)o, buf, 32, 1, 0) < 0) {
        PyErr_Clear();
        return -1;
    }
#endif
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int j = 7; j >= 0; j--) w = w << 8 | buf[8 * i + j];
        raw->v[i] = w;
    }
    return 0;
}

/* A canonical element in Montgomery form; raises FieldError otherwise. */
static int to_fe(PyObject *o, fe *out) {
    fe raw;
    if (int_to_raw(o, &raw) < 0 || geq_mod(raw.v)) return raise_not_canonical(o);
    fe_to_mont(out, &raw);
    return 0;
}

static PyObject *raw_to_int(const fe *raw) {
    unsigned char buf[32];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) buf[8 * i + j] = (unsigned char)(raw->v[i] >> (8 * j));
    return _PyLong_FromByteArray(buf, 32, 1, 0);
}

static PyObject *from_fe(const fe *a) {
    fe raw;
    fe_from_mont(&raw, a);
    return raw_to_int(&raw);
}

/* Reads a sequence of exactly `n` canonical elements (n < 0: any length, returned). */
static Py_ssize_t read_elements(PyObject *seq, fe *out, Py_ssize_t max, Py_ssize_t n) {
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of field elements");
    if (fast == NULL) return -1;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if ((n >= 0 && len != n) || len > max) {
        PyErr_Format(PyExc_ValueError, "expected %zd field elements, got %zd", n < 0 ? max : n,
                     len);
        Py_DECREF(fast);
        return -1;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < len; i++) {
        if (to_fe(items[i], &out[i]) < 0) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return len;
}

/* -- Poseidon ------------------------------------------------------------------------------------ */

#define MAX_WIDTH 9

typedef struct {
    int width, n_first, n_partial, n_last;
    fe *first;   /* per round: width constants, then width x width matrix */
    fe *partial; /* per round: constant, a, w_1..w_{t-1}, v_1..v_{t-1} (2t elements) */
    fe *last;
} Instance;

static Instance INSTANCES[3]; /* width 3, 5, 9 */

static Instance *slot_of(int width) {
    return width == 3 ? &INSTANCES[0] : width == 5 ? &INSTANCES[1] : width == 9 ? &INSTANCES[2] : NULL;
}

static Instance *instance_of(int width) {
    Instance *inst = slot_of(width);
    if (inst == NULL || inst->first == NULL) {
        PyErr_Format(PyExc_ValueError, "no Poseidon instance of width %d; widths: 3, 5, 9", width);
        return NULL;
    }
    return inst;
}

static inline void sbox(fe *x) {
    fe x2, x4;
    fe_mul(&x2, x, x);
    fe_mul(&x4, &x2, &x2);
    fe_mul(x, &x4, x);
}

static void full_round(fe *s, const fe *round, int t) {
    fe y[MAX_WIDTH];
    for (int i = 0; i < t; i++) {
        fe_add(&y[i], &s[i], &round[i]);
        sbox(&y[i]);
    }
    const fe *m = round + t;
    for (int i = 0; i < t; i++) {
        fe acc, p;
        fe_mul(&acc, &m[i * t], &y[0]);
        for (int j = 1; j < t; j++) {
            fe_mul(&p, &m[i * t + j], &y[j]);
            fe_add(&acc, &acc, &p);
        }
        s[i] = acc;
    }
}

static void partial_round(fe *s, const fe *k, int t) {
    fe y, acc, p;
    fe_add(&y, &s[0], &k[0]);
    sbox(&y);
    fe_mul(&acc, &k[1], &y);
    for (int j = 1; j < t; j++) {
        fe_mul(&p, &k[1 + j], &s[j]);
        fe_add(&acc, &acc, &p);
    }
    for (int j = 1; j < t; j++) {
        fe_mul(&p, &k[t + j], &y);
        fe_add(&s[j], &s[j], &p);
    }
    s[0] = acc;
}

static void permute_state(const Instance *inst, fe *s) {
    int t = inst->width, full = t + t * t;
    for (int r = 0; r < inst->n_first; r++) full_round(s, inst->first + r * full, t);
    for (int r = 0; r < inst->n_partial; r++) partial_round(s, inst->partial + r * 2 * t, t);
    for (int r = 0; r < inst->n_last; r++) full_round(s, inst->last + r * full, t);
}

/* rounds: a sequence of (constants, matrix) */
static fe *read_full_rounds(PyObject *rounds, int t, int *count) {
    PyObject *fast = PySequence_Fast(rounds, "full rounds: expected a sequence");
    if (fast == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast), full = t + t * t;
    fe *out = PyMem_Calloc(n * full + 1, sizeof(fe));
    for (Py_ssize_t r = 0; out != NULL && r < n; r++) {
        PyObject *constants, *matrix;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, r), "OO", &constants, &matrix) ||
            read_elements(constants, out + r * full, t, t) < 0)
            goto fail;
        PyObject *rows = PySequence_Fast(matrix, "matrix: expected a sequence of rows");
        if (rows == NULL) goto fail;
        int bad = PySequence_Fast_GET_SIZE(rows) != t;
        for (int i = 0; !bad && i < t; i++)
            bad = read_elements(PySequence_Fast_GET_ITEM(rows, i), out + r * full + t + i * t, t,
                                t) < 0;
        Py_DECREF(rows);
        if (bad) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "matrix: wrong shape");
            goto fail;
        }
    }
    Py_DECREF(fast);
    *count = (int)n;
    return out;
fail:
    PyMem_Free(out);
    Py_DECREF(fast);
    return NULL;
}

static PyObject *py_poseidon_init(PyObject *self, PyObject *args) {
    int t;
    PyObject *first, *partial, *last, *modulus;
    if (!PyArg_ParseTuple(args, "OiOOO", &modulus, &t, &first, &partial, &last)) return NULL;
    fe m;
    if (int_to_raw(modulus, &m) < 0 || memcmp(m.v, MOD, sizeof MOD)) {
        PyErr_SetString(PyExc_ValueError, "the field's modulus is not BLS12-381's r");
        return NULL;
    }
    Instance *inst = slot_of(t);
    if (inst == NULL) return PyErr_Format(PyExc_ValueError, "no Poseidon width %d", t);
    Instance next = {t, 0, 0, 0, NULL, NULL, NULL};
    next.first = read_full_rounds(first, t, &next.n_first);
    next.last = next.first ? read_full_rounds(last, t, &next.n_last) : NULL;
    PyObject *fast = next.last ? PySequence_Fast(partial, "partial rounds: a sequence") : NULL;
    if (fast != NULL) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
        next.partial = PyMem_Calloc(n * 2 * t + 1, sizeof(fe));
        next.n_partial = (int)n;
        for (Py_ssize_t r = 0; next.partial && r < n; r++) {
            if (read_elements(PySequence_Fast_GET_ITEM(fast, r), next.partial + r * 2 * t, 2 * t,
                              2 * t) < 0) {
                PyMem_Free(next.partial);
                next.partial = NULL;
            }
        }
        Py_DECREF(fast);
    }
    if (next.partial == NULL) {
        PyMem_Free(next.first);
        PyMem_Free(next.last);
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return NULL;
    }
    /* A replaced instance's tables are not freed: another thread may be reading them without
     * the GIL (the sponge). Initialisation happens once per process, at import. */
    *inst = next;
    Py_RETURN_NONE;
}

static PyObject *py_permute(PyObject *self, PyObject *arg) {
    fe s[MAX_WIDTH];
    Py_ssize_t n = PySequence_Size(arg);
    if (n < 0) return NULL;
    Instance *inst = instance_of((int)n);
    if (inst == NULL || read_elements(arg, s, MAX_WIDTH, n) < 0) return NULL;
    permute_state(inst, s);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *x = from_fe(&s[i]);
        if (x == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, x);
    }
    return out;
}

/* lane 0 of permute([0, *inputs]) for width 3, 5 or 9 */
static PyObject *hash_lane0(PyObject *const *args, Py_ssize_t nargs, int t) {
    Instance *inst = instance_of(t);
    if (inst == NULL) return NULL;
    if (nargs != t - 1) return PyErr_Format(PyExc_TypeError, "expected %d arguments", t - 1);
    fe s[MAX_WIDTH];
    memset(&s[0], 0, sizeof s[0]);
    for (int i = 1; i < t; i++)
        if (to_fe(args[i - 1], &s[i]) < 0) return NULL;
    permute_state(inst, s);
    return from_fe(&s[0]);
}

static PyObject *py_hash2(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return hash_lane0(args, nargs, 3);
}

static PyObject *py_hash4(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return hash_lane0(args, nargs, 5);
}

static PyObject *py_hash8(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return hash_lane0(args, nargs, 9);
}

/* The width-5 sponge's absorption: `blocks` blocks of 4 elements from `in` (zero-padded by the
 * caller) added to lanes 1..4 of `s`, which holds the capacity tag in lane 0; the digest is s[1]. */
static void sponge_blocks(const Instance *inst, fe *s, const fe *in, Py_ssize_t blocks) {
    for (Py_ssize_t b = 0; b < blocks; b++) {
        for (int j = 0; j < 4; j++) fe_add(&s[1 + j], &s[1 + j], &in[4 * b + j]);
        permute_state(inst, s);
    }
}

static Py_ssize_t sponge_block_count(Py_ssize_t len) { return len ? (len + 3) / 4 : 1; }

/* The sponge's inputs and tag read into `s` (zeroed, the tag in lane 0) and a zero-padded array
 * (PyMem; the caller frees it); NULL with an exception on input that is not canonical. */
static fe *read_sponge(PyObject *inputs, PyObject *tag, fe s[5], Py_ssize_t *blocks) {
    PyObject *fast = PySequence_Fast(inputs, "expected a sequence of field elements");
    if (fast == NULL) return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    *blocks = sponge_block_count(len);
    fe *in = PyMem_Calloc(*blocks * 4, sizeof(fe));
    if (in == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    int ok = 1;
    for (Py_ssize_t i = 0; ok && i < len; i++) ok = to_fe(items[i], &in[i]) == 0;
    Py_DECREF(fast);
    memset(s, 0, 5 * sizeof(fe));
    if (ok) ok = to_fe(tag, &s[0]) == 0;
    if (!ok) {
        PyMem_Free(in);
        return NULL;
    }
    return in;
}

/* The sponge of protocol.poseidon.sponge, given its capacity tag (checked there). */
static PyObject *py_sponge(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "sponge(inputs, tag)");
    Instance *inst = instance_of(5);
    if (inst == NULL) return NULL;
    fe s[5];
    Py_ssize_t blocks;
    fe *in = read_sponge(args[0], args[1], s, &blocks);
    if (in == NULL) return NULL;
    Py_BEGIN_ALLOW_THREADS
    sponge_blocks(inst, s, in, blocks);
    Py_END_ALLOW_THREADS
    PyMem_Free(in);
    return from_fe(&s[1]);
}

/* -- Jubjub ------------------------------------------------------------------------------------- */

typedef struct {
    fe x, y, z, t;
} point;

static fe CURVE_D, CURVE_D2; /* d and 2d, Montgomery form */
static uint64_t ORDER[4];    /* the prime subgroup's order (raw) */
static point *BASE_TABLE = NULL; /* [i * 16 + j] = j * 16^i * G, 64 rows */
#define WINDOW 4

static void pt_identity(point *p) {
    memset(p, 0, sizeof *p);
    p->y = ONE;
    p->z = ONE;
}

static void pt_add(point *out, const point *p, const point *q) { /* add-2008-hwcd-3 */
    fe a, b, c, d, e, f, g, h, u, v;
    fe_sub(&u, &p->y, &p->x);
    fe_sub(&v, &q->y, &q->x);
    fe_mul(&a, &u, &v);
    fe_add(&u, &p->y, &p->x);
    fe_add(&v, &q->y, &q->x);
    fe_mul(&b, &u, &v);
    fe_mul(&c, &p->t, &q->t);
    fe_mul(&c, &c, &CURVE_D2);
    fe_mul(&d, &p->z, &q->z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&out->x, &e, &f);
    fe_mul(&out->y, &g, &h);
    fe_mul(&out->z, &f, &g);
    fe_mul(&out->t, &e, &h);
}

static void pt_double(point *out, const point *p) { /* dbl-2008-hwcd, a = -1 */
    fe a, b, c, e, f, g, h, u;
    fe_mul(&a, &p->x, &p->x);
    fe_mul(&b, &p->y, &p->y);
    fe_mul(&c, &p->z, &p->z);
    fe_add(&c, &c, &c);
    fe_add(&u, &p->x, &p->y);
    fe_mul(&e, &u, &u);
    fe_sub(&e, &e, &a);
    fe_sub(&e, &e, &b);
    fe_sub(&g, &b, &a);
    fe_sub(&f, &g, &c);
    fe_add(&h, &a, &b);
    fe_neg(&h, &h);
    fe_mul(&out->x, &e, &f);
    fe_mul(&out->y, &g, &h);
    fe_mul(&out->z, &f, &g);
    fe_mul(&out->t, &e, &h);
}

static int pt_is_identity(const point *p) { return fe_is_zero(&p->x) && fe_eq(&p->y, &p->z); }

static int pt_equal(const point *p, const point *q) {
    fe l, r;
    fe_mul(&l, &p->x, &q->z);
    fe_mul(&r, &q->x, &p->z);
    if (!fe_eq(&l, &r)) return 0;
    fe_mul(&l, &p->y, &q->z);
    fe_mul(&r, &q->y, &p->z);
    return fe_eq(&l, &r);
}

/* k * p for a 256-bit k (little-endian limbs), 4-bit fixed window, top window first */
static void pt_mul(point *out, const uint64_t *k, const point *p) {
    point table[1 << WINDOW], acc;
    pt_identity(&table[0]);
    table[1] = *p;
    for (int i = 2; i < 1 << WINDOW; i++) pt_add(&table[i], &table[i - 1], p);
    pt_identity(&acc);
    int started = 0;
    for (int w = 256 / WINDOW - 1; w >= 0; w--) {
        unsigned nib = (unsigned)(k[w / 16] >> (4 * (w % 16)) & 0xF);
        if (started)
            for (int i = 0; i < WINDOW; i++) pt_double(&acc, &acc);
        if (nib) { /* adding table[0], the identity, would change nothing */
            pt_add(&acc, &acc, &table[nib]);
            started = 1;
        }
    }
    *out = acc;
}

static void pt_base_mul(point *out, const uint64_t *k) {
    point acc;
    pt_identity(&acc);
    for (int w = 0; w < 256 / WINDOW; w++) {
        unsigned nib = (unsigned)(k[w / 16] >> (4 * (w % 16)) & 0xF);
        if (nib) pt_add(&acc, &acc, &BASE_TABLE[w * 16 + nib]);
    }
    *out = acc;
}

/* -x^2 + y^2 == 1 + d x^2 y^2 (Montgomery-form affine coordinates) */
static int on_curve(const fe *x, const fe *y) {
    fe x2, y2, l, r;
    fe_mul(&x2, x, x);
    fe_mul(&y2, y, y);
    fe_sub(&l, &y2, &x2);
    fe_mul(&r, &x2, &y2);
    fe_mul(&r, &r, &CURVE_D);
    fe_add(&r, &r, &ONE);
    return fe_eq(&l, &r);
}

static void pt_from_affine(point *p, const fe *x, const fe *y) {
    p->x = *x;
    p->y = *y;
    p->z = ONE;
    fe_mul(&p->t, x, y);
}

static int in_subgroup(const point *p) {
    point q;
    pt_mul(&q, ORDER, p);
    return pt_is_identity(&q);
}

static int small_order(const point *p) {
    point q;
    pt_double(&q, p);
    pt_double(&q, &q);
    pt_double(&q, &q);
    return pt_is_identity(&q);
}

static PyObject *py_jubjub_init(PyObject *self, PyObject *args) {
    PyObject *d, *gx, *gy, *order;
    if (!PyArg_ParseTuple(args, "OOOO", &d, &gx, &gy, &order)) return NULL;
    fe d_m, x, y, n;
    if (to_fe(d, &d_m) < 0 || to_fe(gx, &x) < 0 || to_fe(gy, &y) < 0) return NULL;
    if (int_to_raw(order, &n) < 0) return PyErr_Format(PyExc_ValueError, "bad subgroup order");
    point *table = PyMem_Calloc(256 / WINDOW * 16, sizeof(point));
    if (table == NULL) return PyErr_NoMemory();
    CURVE_D = d_m;
    fe_add(&CURVE_D2, &d_m, &d_m);
    if (!on_curve(&x, &y)) {
        PyMem_Free(table);
        return PyErr_Format(PyExc_ValueError, "the generator is not on the curve");
    }
    memcpy(ORDER, n.v, sizeof ORDER);
    point base;
    pt_from_affine(&base, &x, &y);
    for (int w = 0; w < 256 / WINDOW; w++) {
        point *row = table + w * 16;
        pt_identity(&row[0]);
        row[1] = base;
        for (int j = 2; j < 16; j++) pt_add(&row[j], &row[j - 1], &base);
        pt_add(&base, &row[15], &base);
    }
    BASE_TABLE = table; /* an old table is not freed: see poseidon_init */
    Py_RETURN_NONE;
}

/* Reads a canonical coordinate; 0 (no exception) when it is not one. */
static int read_coordinate(PyObject *o, fe *out) {
    fe raw;
    if (int_to_raw(o, &raw) < 0 || geq_mod(raw.v)) return 0;
    fe_to_mont(out, &raw);
    return 1;
}

/* Keys found valid (on the curve, not of small order, in the prime subgroup) and their tables
 * for c*A: a key signs many transactions, and both its subgroup check and c*A are 252 to 255
 * doublings. A pure function's memo (direct-mapped, by the key's coordinates), read and written
 * while holding the GIL; a verification copies its key's table out before releasing it. */
#define KEY_CACHE 1024
#define TEETH 4 /* c*A as sum of c_i * (2^(64 i) A) over c's four 64-bit limbs */
typedef point key_table[TEETH][16]; /* [i][j] = j * 2^(64 i) * A (8 KiB) */

static fe VALID_KEYS[KEY_CACHE][2];
static key_table *KEY_TABLES[KEY_CACHE]; /* allocated on first use of a slot, never freed */

static unsigned key_slot(const fe *x, const fe *y) {
    return (unsigned)((x->v[0] ^ y->v[0] * 0x9E3779B97F4A7C15ULL) >> 40) % KEY_CACHE;
}

/* Whether the key is known valid; if so its table is copied into `table`. */
static int lookup_valid_key(const fe *x, const fe *y, key_table table) {
    unsigned i = key_slot(x, y);
    if (KEY_TABLES[i] == NULL || !fe_eq(&VALID_KEYS[i][0], x) || !fe_eq(&VALID_KEYS[i][1], y))
        return 0;
    memcpy(table, *KEY_TABLES[i], sizeof(key_table));
    return 1;
}

static void remember_valid_key(const fe *x, const fe *y, key_table table) {
    unsigned i = key_slot(x, y);
    if (KEY_TABLES[i] == NULL && (KEY_TABLES[i] = PyMem_Malloc(sizeof(key_table))) == NULL)
        return; /* no memory: the key is simply not remembered */
    VALID_KEYS[i][0] = *x;
    VALID_KEYS[i][1] = *y;
    memcpy(*KEY_TABLES[i], table, sizeof(key_table));
}

static void build_key_table(key_table t, const point *a) {
    point base = *a;
    for (int i = 0; i < TEETH; i++) {
        pt_identity(&t[i][0]);
        t[i][1] = base;
        for (int j = 2; j < 16; j++) pt_add(&t[i][j], &t[i][j - 1], &base);
        for (int k = 0; i + 1 < TEETH && k < 64; k++) pt_double(&base, &base);
    }
}

/* k * A for a 256-bit k from A's table: the four 64-bit limbs side by side, 16 windows of 4
 * bits (60 doublings and at most 64 additions, against 252 doublings without the table). */
static void pt_mul_table(point *out, const uint64_t *k, key_table t) {
    point acc;
    pt_identity(&acc);
    for (int w = 15; w >= 0; w--) {
        for (int d = 0; w != 15 && d < WINDOW; d++) pt_double(&acc, &acc);
        for (int i = 0; i < TEETH; i++) {
            unsigned nib = (unsigned)(k[i] >> (4 * w) & 0xF);
            if (nib) pt_add(&acc, &acc, &t[i][nib]);
        }
    }
    *out = acc;
}

/* Whether a raw s is below the subgroup's order. */
static int below_order(const fe *s) {
    for (int i = 3; i >= 0; i--)
        if (s->v[i] != ORDER[i]) return s->v[i] < ORDER[i];
    return 0;
}

/* One verification's inputs, read while holding the GIL: canonical coordinates (Montgomery form)
 * and s below the order (`readable`), and A's table if the key is known valid. */
typedef struct {
    fe ax, ay, rx, ry, s; /* s raw */
    int readable, key_known, key_ok, valid;
    key_table *table;
} verification;

static int read_verification(verification *v, PyObject *const *xy_rs, key_table *table) {
    v->valid = v->key_ok = v->key_known = 0;
    v->table = table;
    v->readable = read_coordinate(xy_rs[0], &v->ax) && read_coordinate(xy_rs[1], &v->ay) &&
                  read_coordinate(xy_rs[2], &v->rx) && read_coordinate(xy_rs[3], &v->ry) &&
                  int_to_raw(xy_rs[4], &v->s) == 0 && below_order(&v->s);
    if (v->readable) v->key_ok = v->key_known = lookup_valid_key(&v->ax, &v->ay, *table);
    return v->readable;
}

/* The curve checks and s*G == R + c*A for a raw challenge c; needs no GIL. */
static void run_verification(verification *v, const fe *c) {
    if (!v->readable || !on_curve(&v->ax, &v->ay) || !on_curve(&v->rx, &v->ry)) return;
    point a, r, left, right;
    pt_from_affine(&a, &v->ax, &v->ay);
    pt_from_affine(&r, &v->rx, &v->ry);
    if (!v->key_ok) {
        v->key_ok = !small_order(&a) && in_subgroup(&a);
        if (v->key_ok) build_key_table(*v->table, &a);
    }
    if (!v->key_ok) return;
    pt_base_mul(&left, v->s.v);
    pt_mul_table(&right, c->v, *v->table);
    pt_add(&right, &r, &right);
    v->valid = pt_equal(&left, &right);
}

/* A new valid key's table kept for its next signatures (holding the GIL). */
static void finish_verification(const verification *v) {
    if (v->key_ok && !v->key_known) remember_valid_key(&v->ax, &v->ay, *v->table);
}

/* eddsa_verify(ax, ay, rx, ry, s, c): protocol.eddsa.verify's curve checks and equation, for a
 * challenge c computed by the caller: s < ORDER, A and R on the curve, A not of small order, A and
 * R in the prime subgroup, s*G == R + c*A. False for any input that is not such; never raises.
 * R's subgroup check is not computed apart: with A in the subgroup, s*G == R + c*A gives
 * R = s*G - c*A, in the subgroup; without the equation the answer is False either way. */
static PyObject *py_eddsa_verify(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) return PyErr_Format(PyExc_TypeError, "eddsa_verify(ax, ay, rx, ry, s, c)");
    if (BASE_TABLE == NULL) return PyErr_Format(PyExc_RuntimeError, "jubjub_init first");
    key_table table;
    verification v;
    fe c;
    if (!read_verification(&v, args, &table) || int_to_raw(args[5], &c) < 0) Py_RETURN_FALSE;
    Py_BEGIN_ALLOW_THREADS
    run_verification(&v, &c);
    Py_END_ALLOW_THREADS
    finish_verification(&v);
    return PyBool_FromLong(v.valid);
}

/* eddsa_verify_many(items, challenge_tag), each item (inputs, tag, ax, ay, rx, ry, s): for each,
 * the message m = sponge(inputs, tag), the challenge c = sponge([rx, ry, ax, ay, m],
 * challenge_tag), and eddsa_verify(ax, ay, rx, ry, s, c); a list of bools. All of it, for every
 * item, without the GIL: one hand-over for the batch instead of three an item. Inputs that are
 * not canonical raise FieldError, as the sponge does; bad coordinates or s give False. */
static PyObject *py_eddsa_verify_many(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "eddsa_verify_many(items, challenge_tag)");
    if (BASE_TABLE == NULL) return PyErr_Format(PyExc_RuntimeError, "jubjub_init first");
    Instance *inst = instance_of(5);
    if (inst == NULL) return NULL;
    fe challenge_tag;
    if (to_fe(args[1], &challenge_tag) < 0) return NULL;
    PyObject *fast = PySequence_Fast(args[0], "expected a sequence of items");
    if (fast == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    verification *vs = PyMem_Calloc(n ? n : 1, sizeof(verification));
    key_table *tables = PyMem_Calloc(n ? n : 1, sizeof(key_table));
    fe **inputs = PyMem_Calloc(n ? n : 1, sizeof(fe *));
    Py_ssize_t *blocks = PyMem_Calloc(n ? n : 1, sizeof(Py_ssize_t));
    fe(*states)[5] = PyMem_Calloc(n ? n : 1, sizeof(fe[5]));
    PyObject *result = NULL;
    Py_ssize_t read = 0;
    if (vs == NULL || tables == NULL || inputs == NULL || blocks == NULL || states == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (; read < n; read++) {
        PyObject *item = items[read];
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 7) {
            PyErr_Format(PyExc_TypeError, "an item is (inputs, tag, ax, ay, rx, ry, s)");
            goto done;
        }
        PyObject *const *fields = &PyTuple_GET_ITEM(item, 0);
        inputs[read] = read_sponge(fields[0], fields[1], states[read], &blocks[read]);
        if (inputs[read] == NULL) goto done;
        read_verification(&vs[read], fields + 2, &tables[read]);
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!vs[i].readable) continue;
        sponge_blocks(inst, states[i], inputs[i], blocks[i]);
        /* c = sponge([R.x, R.y, A.x, A.y, m]): 5 inputs, 2 blocks with the padding */
        fe lanes[8] = {vs[i].rx, vs[i].ry, vs[i].ax, vs[i].ay, states[i][1]};
        fe st[5] = {challenge_tag};
        fe c;
        sponge_blocks(inst, st, lanes, 2);
        fe_from_mont(&c, &st[1]);
        run_verification(&vs[i], &c);
    }
    Py_END_ALLOW_THREADS
    result = PyList_New(n);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        finish_verification(&vs[i]);
        PyList_SET_ITEM(result, i, PyBool_FromLong(vs[i].valid));
    }
done:
    for (Py_ssize_t i = 0; inputs != NULL && i < read; i++) PyMem_Free(inputs[i]);
    PyMem_Free(vs);
    PyMem_Free(tables);
    PyMem_Free(inputs);
    PyMem_Free(blocks);
    PyMem_Free(states);
    Py_DECREF(fast);
    return result;
}

/* Tonelli-Shanks constants, set at module init: r - 1 = 2^32 * ODD, (ODD - 1) / 2, and
 * ROOT_OF_UNITY = 7^ODD (7 is a non-square), of order 2^32. */
#define TWO_ADICITY 32
static uint64_t ODD_HALF[4];
static fe ROOT_OF_UNITY;

static void sqrt_setup(void) {
    uint64_t odd[4];
    for (int i = 0; i < 4; i++) { /* (r - 1) >> 32; r - 1 differs from r in limb 0 only */
        uint64_t lo = i == 0 ? MOD[0] - 1 : MOD[i], hi = i < 3 ? MOD[i + 1] : 0;
        odd[i] = lo >> TWO_ADICITY | hi << (64 - TWO_ADICITY);
    }
    for (int i = 0; i < 4; i++) ODD_HALF[i] = odd[i] >> 1 | (i < 3 ? odd[i + 1] << 63 : 0);
    fe seven = {{7, 0, 0, 0}}, g;
    fe_to_mont(&g, &seven);
    fe_pow(&ROOT_OF_UNITY, &g, odd, 4);
}

/* A square root of x (Montgomery form), as protocol.field.sqrt computes one (Tonelli-Shanks, the
 * same root up to sign); 0 when x is not a square. w = x^((ODD-1)/2) gives both the candidate
 * root x^((ODD+1)/2) = w*x and t = x^ODD = w*root in one exponentiation; x is a non-square
 * exactly when t's order is 2^32 (Euler's criterion, folded into the loop). */
static int fe_sqrt(fe *out, const fe *x) {
    if (fe_is_zero(x)) {
        *out = *x;
        return 1;
    }
    fe w, root, t, c = ROOT_OF_UNITY, b, t2;
    fe_pow(&w, x, ODD_HALF, 4);
    fe_mul(&root, &w, x);
    fe_mul(&t, &w, &root);
    int m = TWO_ADICITY;
    while (!fe_eq(&t, &ONE)) {
        int i = 0;
        t2 = t;
        while (!fe_eq(&t2, &ONE)) {
            fe_mul(&t2, &t2, &t2);
            if (++i == m) return 0; /* t's order is 2^m: x is not a square */
        }
        b = c;
        for (int j = 0; j < m - i - 1; j++) fe_mul(&b, &b, &b);
        m = i;
        fe_mul(&c, &b, &b);
        fe_mul(&t, &t, &c);
        fe_mul(&root, &root, &b);
    }
    *out = root;
    return 1;
}

/* jubjub_recover_x(y): an x with (x, y) on the curve (either of the two), or None when there is
 * none; y must be canonical (FieldError otherwise). */
static PyObject *py_jubjub_recover_x(PyObject *self, PyObject *arg) {
    fe y, y2, num, den, x;
    if (BASE_TABLE == NULL) return PyErr_Format(PyExc_RuntimeError, "jubjub_init first");
    if (to_fe(arg, &y) < 0) return NULL;
    int found = 0;
    Py_BEGIN_ALLOW_THREADS /* two exponentiations: other threads may run meanwhile */
    fe_mul(&y2, &y, &y);
    fe_sub(&num, &y2, &ONE);
    fe_mul(&den, &CURVE_D, &y2);
    fe_add(&den, &den, &ONE);
    if (!fe_is_zero(&den)) { /* it never is: d is not a square */
        fe_inv(&den, &den);
        fe_mul(&num, &num, &den);
        found = fe_sqrt(&x, &num);
    }
    Py_END_ALLOW_THREADS
    if (!found) Py_RETURN_NONE;
    return from_fe(&x);
}

/* -- the module ------------------------------------------------------------------------------------ */

static PyObject *py_set_field_error(PyObject *self, PyObject *cls) {
    Py_INCREF(cls);
    Py_XSETREF(FIELD_ERROR, cls);
    Py_RETURN_NONE;
}

/* kernels(): the field multiplications this CPU can run; kernel(): the one in use. */
static PyObject *py_kernels(PyObject *self, PyObject *unused) {
    return HAS_ADX ? Py_BuildValue("(ss)", "portable", "adx") : Py_BuildValue("(s)", "portable");
}

static PyObject *py_kernel(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(USE_ADX ? "adx" : "portable");
}

/* set_kernel(name): picks the field multiplication (tests compare each with the reference).
 * Call it while no other thread computes here: a computation running without the GIL would mix
 * the two (each gives the same products, so results stay right, but it is not what was asked). */
static PyObject *py_set_kernel(PyObject *self, PyObject *arg) {
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (name != NULL && strcmp(name, "portable") == 0)
        USE_ADX = 0;
    else if (name != NULL && strcmp(name, "adx") == 0 && HAS_ADX)
        USE_ADX = 1;
    else
        return PyErr_Format(PyExc_ValueError, "no field kernel %R on this CPU", arg);
    Py_RETURN_NONE;
}

static PyMethodDef METHODS[] = {
    {"kernels", py_kernels, METH_NOARGS, "The field multiplications this CPU can run."},
    {"kernel", py_kernel, METH_NOARGS, "The field multiplication in use."},
    {"set_kernel", py_set_kernel, METH_O, "set_kernel('portable' | 'adx')"},
    {"set_field_error", py_set_field_error, METH_O, "The exception class of non-canonical input."},
    {"poseidon_init", py_poseidon_init, METH_VARARGS,
     "poseidon_init(r, width, first, partial, last): one optimized Poseidon instance."},
    {"permute", py_permute, METH_O, "The Poseidon permutation of a width-3, 5 or 9 state."},
    {"hash2", (PyCFunction)(void (*)(void))py_hash2, METH_FASTCALL, "lane 0 of permute([0, a, b])"},
    {"hash4", (PyCFunction)(void (*)(void))py_hash4, METH_FASTCALL,
     "lane 0 of permute([0, a, b, c, d])"},
    {"hash8", (PyCFunction)(void (*)(void))py_hash8, METH_FASTCALL,
     "lane 0 of permute([0, a, b, c, d, e, f, g, h])"},
    {"sponge", (PyCFunction)(void (*)(void))py_sponge, METH_FASTCALL,
     "sponge(inputs, tag): the width-5 sponge with its capacity tag"},
    {"jubjub_init", py_jubjub_init, METH_VARARGS, "jubjub_init(d, gx, gy, order)"},
    {"eddsa_verify", (PyCFunction)(void (*)(void))py_eddsa_verify, METH_FASTCALL,
     "eddsa_verify(ax, ay, rx, ry, s, c): the curve checks and s*G == R + c*A"},
    {"eddsa_verify_many", (PyCFunction)(void (*)(void))py_eddsa_verify_many, METH_FASTCALL,
     "eddsa_verify_many(items, challenge_tag): each item (inputs, tag, ax, ay, rx, ry, s) "
     "verified for the message sponge(inputs, tag)"},
    {"jubjub_recover_x", py_jubjub_recover_x, METH_O, "an x on the curve for y, or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "zkperp_native",
    "BLS12-381 Fr, Poseidon and Jubjub EdDSA verification (see native/zkperp_native.c).", -1,
    METHODS,
};

PyMODINIT_FUNC PyInit_zkperp_native(void) {
    field_setup();
    sqrt_setup();
    return PyModule_Create(&MODULE);
}
