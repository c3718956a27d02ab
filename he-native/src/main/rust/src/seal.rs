//! A small safe layer over the SEAL C API: owned handles, HRESULT checks,
//! CKKS encoding at the last level, strict loading of untrusted bytes.

use std::ffi::c_void;
use std::ptr;

use crate::ffi::*;

/// Everything that can go wrong below the JNI bridge.
#[derive(Debug, Clone, PartialEq)]
pub enum HeError {
    /// Untrusted bytes that are not a valid object for this context.
    Malformed(String),
    /// A caller error (wrong lengths, insecure parameters, zero factor …).
    InvalidArgument(String),
    /// SEAL failed where valid inputs should not fail.
    Native(String),
}

pub type Result<T> = std::result::Result<T, HeError>;

fn check(hr: HResult, what: &str) -> Result<()> {
    match hr {
        S_OK => Ok(()),
        E_INVALIDARG => Err(HeError::InvalidArgument(format!("{what}: SEAL rejected an argument (E_INVALIDARG)"))),
        E_POINTER => Err(HeError::Native(format!("{what}: null pointer (E_POINTER)"))),
        E_OUTOFMEMORY => Err(HeError::Native(format!("{what}: out of memory"))),
        COR_E_INVALIDOPERATION => Err(HeError::Native(format!("{what}: invalid operation (logic_error)"))),
        COR_E_IO => Err(HeError::Native(format!("{what}: I/O or runtime error"))),
        other => Err(HeError::Native(format!("{what}: HRESULT {other:#x}"))),
    }
}

/// A SEAL object owned by Rust, destroyed exactly once on drop.
struct Owned {
    ptr: *mut c_void,
    destroy: unsafe extern "C" fn(*mut c_void) -> HResult,
}

impl Owned {
    fn new(ptr: *mut c_void, destroy: unsafe extern "C" fn(*mut c_void) -> HResult, what: &str) -> Result<Self> {
        if ptr.is_null() {
            return Err(HeError::Native(format!("{what}: SEAL returned a null object")));
        }
        Ok(Owned { ptr, destroy })
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        unsafe {
            (self.destroy)(self.ptr);
        }
    }
}

// SEAL's context, encoder, evaluator, encryptor, decryptor and keys are
// immutable after construction and use the thread-safe global memory pool.
// Ciphertexts are mutable; CtVec is only ever reached through `&mut` for writes.
unsafe impl Send for Owned {}
unsafe impl Sync for Owned {}

pub type ParmsId = [u64; 4];

/// Byte layout of SEAL 4.0 serialization (no compression), see SEAL's serialization.h.
const SEAL_HEADER_BYTES: usize = 16;
const SEAL_MAGIC: u16 = 0xA15E;
/// parms_id, is_ntt_form, size, N, k, scale, correction factor.
const CT_META_BYTES: usize = 32 + 1 + 8 + 8 + 8 + 8 + 8;
/// The DynArray of coefficients carries its own header and a u64 count.
const DYNARRAY_PREFIX_BYTES: usize = SEAL_HEADER_BYTES + 8;
/// A seeded ciphertext stores c0 plus the PRNG info instead of c1.
const SEED_INFO_BYTES: usize = SEED_INFO_SIZE;
/// `UniformRandomGeneratorInfo::SaveSize(none)`: header + type byte + 8 seed words (measured, see tests).
const SEED_INFO_SIZE: usize = SEAL_HEADER_BYTES + 1 + 64;

/// Exact serialized size of a 2-polynomial object with `k` primes of degree `n`.
pub fn full_size(n: u64, k: u64) -> usize {
    SEAL_HEADER_BYTES + CT_META_BYTES + DYNARRAY_PREFIX_BYTES + (2 * k * n * 8) as usize
}

/// Exact serialized size of a seeded symmetric ciphertext.
pub fn seeded_size(n: u64, k: u64) -> usize {
    SEAL_HEADER_BYTES + CT_META_BYTES + DYNARRAY_PREFIX_BYTES + (k * n * 8) as usize + SEED_INFO_BYTES
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The structural checks SEAL 4.0's loader lacks, done before any byte
/// reaches it: exact length, header fields, parameter id, level and shape.
fn precheck_object(bytes: &[u8], expect_parms: &ParmsId, n: u64, k: u64, allow_seeded: bool, expect_scale: Option<f64>, what: &str) -> Result<()> {
    let full = full_size(n, k);
    let seeded = seeded_size(n, k);
    if bytes.len() != full && !(allow_seeded && bytes.len() == seeded) {
        return Err(HeError::Malformed(format!(
            "{what}: {} bytes, expected exactly {full}{}",
            bytes.len(),
            if allow_seeded { format!(" (or {seeded} seeded)") } else { String::new() }
        )));
    }
    let magic = u16::from_le_bytes([bytes[0], bytes[1]]);
    if magic != SEAL_MAGIC || bytes[2] as usize != SEAL_HEADER_BYTES {
        return Err(HeError::Malformed(format!("{what}: not a SEAL object (bad magic or header size)")));
    }
    if bytes[3] != 4 || bytes[4] != 0 {
        return Err(HeError::Malformed(format!("{what}: SEAL version {}.{} unsupported, expected 4.0", bytes[3], bytes[4])));
    }
    if bytes[5] != COMPR_NONE {
        return Err(HeError::Malformed(format!("{what}: compressed objects are not accepted (mode {})", bytes[5])));
    }
    if bytes[6] != 0 || bytes[7] != 0 {
        return Err(HeError::Malformed(format!("{what}: reserved header bytes are not zero")));
    }
    if read_u64(bytes, 8) != bytes.len() as u64 {
        return Err(HeError::Malformed(format!("{what}: header size field does not match the byte length")));
    }
    let mut parms = [0u64; 4];
    for (i, p) in parms.iter_mut().enumerate() {
        *p = read_u64(bytes, 16 + 8 * i);
    }
    if &parms != expect_parms {
        return Err(HeError::Malformed(format!("{what}: parameter id does not match this parameter set and level")));
    }
    if bytes[48] != 1 {
        return Err(HeError::Malformed(format!("{what}: not in NTT form")));
    }
    if read_u64(bytes, 49) != 2 || read_u64(bytes, 57) != n || read_u64(bytes, 65) != k {
        return Err(HeError::Malformed(format!("{what}: wrong shape (size, degree or prime count)")));
    }
    // SEAL's loader does not check the scale, and parameter sets may share moduli (same parms_id)
    // while differing in scale; a foreign scale would make every later addition fail.
    if let Some(scale) = expect_scale {
        let got = f64::from_bits(read_u64(bytes, 73));
        if got != scale {
            return Err(HeError::Malformed(format!("{what}: scale {got:e} is not this parameter set's {scale:e}")));
        }
    }
    Ok(())
}

/// One SEAL context with its encoder and evaluator, for a named parameter set.
pub struct Context {
    ctx: Owned,
    encoder: Owned,
    evaluator: Owned,
    pub n: u64,
    pub slots: u64,
    pub scale: f64,
    pub key_primes: u64,
    key_parms: ParmsId,
    last_parms: ParmsId,
}

impl Context {
    /// Builds a CKKS context; refuses parameters SEAL deems below 128-bit security.
    pub fn new(n: u64, bit_sizes: &[i32], scale: f64) -> Result<Self> {
        if bit_sizes.len() < 2 {
            return Err(HeError::InvalidArgument("need at least two primes (data + special)".into()));
        }
        if !(scale > 1.0 && scale.is_finite()) {
            return Err(HeError::InvalidArgument(format!("scale {scale} must be finite and > 1")));
        }
        unsafe {
            let mut max_bits = 0;
            check(CoeffModulus_MaxBitCount(n, SEC_LEVEL_TC128, &mut max_bits), "CoeffModulus_MaxBitCount")?;
            let total: i32 = bit_sizes.iter().sum();
            if max_bits == 0 || total > max_bits {
                return Err(HeError::InvalidArgument(format!(
                    "insecure parameters: N={n} allows at most {max_bits} bits of modulus at 128-bit security, got {total}"
                )));
            }
            let mut parms = ptr::null_mut();
            check(EncParams_Create1(SCHEME_CKKS, &mut parms), "EncParams_Create1")?;
            let parms = Owned::new(parms, EncParams_Destroy, "EncParams")?;
            check(EncParams_SetPolyModulusDegree(parms.ptr, n), "EncParams_SetPolyModulusDegree")?;
            let mut bits: Vec<i32> = bit_sizes.to_vec();
            let mut moduli: Vec<*mut c_void> = vec![ptr::null_mut(); bits.len()];
            check(
                CoeffModulus_Create1(n, bits.len() as u64, bits.as_mut_ptr(), moduli.as_mut_ptr()),
                "CoeffModulus_Create",
            )?;
            let moduli: Vec<Owned> = moduli
                .into_iter()
                .map(|m| Owned::new(m, Modulus_Destroy, "Modulus"))
                .collect::<Result<_>>()?;
            let mut raw: Vec<*mut c_void> = moduli.iter().map(|m| m.ptr).collect();
            check(EncParams_SetCoeffModulus(parms.ptr, raw.len() as u64, raw.as_mut_ptr()), "EncParams_SetCoeffModulus")?;

            let mut ctx = ptr::null_mut();
            check(SEALContext_Create(parms.ptr, true, SEC_LEVEL_TC128, &mut ctx), "SEALContext_Create")?;
            let ctx = Owned::new(ctx, SEALContext_Destroy, "SEALContext")?;
            let mut ok = false;
            check(SEALContext_ParametersSet(ctx.ptr, &mut ok), "SEALContext_ParametersSet")?;
            if !ok {
                let mut buf = vec![0u8; 512];
                let mut len = buf.len() as u64;
                SEALContext_ParameterErrorMessage(ctx.ptr, buf.as_mut_ptr() as *mut _, &mut len);
                let msg = String::from_utf8_lossy(&buf[..(len as usize).min(buf.len())]).trim_end_matches('\0').to_string();
                return Err(HeError::InvalidArgument(format!("SEAL rejected the parameters: {msg}")));
            }
            let mut key_parms = [0u64; 4];
            let mut last_parms = [0u64; 4];
            check(SEALContext_KeyParmsId(ctx.ptr, key_parms.as_mut_ptr()), "KeyParmsId")?;
            check(SEALContext_LastParmsId(ctx.ptr, last_parms.as_mut_ptr()), "LastParmsId")?;

            let mut enc = ptr::null_mut();
            check(CKKSEncoder_Create(ctx.ptr, &mut enc), "CKKSEncoder_Create")?;
            let encoder = Owned::new(enc, CKKSEncoder_Destroy, "CKKSEncoder")?;
            let mut slots = 0u64;
            check(CKKSEncoder_SlotCount(encoder.ptr, &mut slots), "CKKSEncoder_SlotCount")?;
            let mut ev = ptr::null_mut();
            check(Evaluator_Create(ctx.ptr, &mut ev), "Evaluator_Create")?;
            let evaluator = Owned::new(ev, Evaluator_Destroy, "Evaluator")?;

            Ok(Context {
                ctx,
                encoder,
                evaluator,
                n,
                slots,
                scale,
                key_primes: bit_sizes.len() as u64,
                key_parms,
                last_parms,
            })
        }
    }

    /// Values one ciphertext carries: one per slot, or two (re + im) when packed.
    pub fn values_per_ciphertext(&self, packed: bool) -> usize {
        (if packed { 2 * self.slots } else { self.slots }) as usize
    }

    /// Serialized size of a ciphertext at the last level (where FedSeal ciphertexts travel).
    pub fn ciphertext_size(&self, seeded: bool) -> usize {
        if seeded { seeded_size(self.n, 1) } else { full_size(self.n, 1) }
    }

    /// Serialized size of a (non-seeded) public key.
    pub fn public_key_size(&self) -> usize {
        full_size(self.n, self.key_primes)
    }

    pub fn generate_keys(&self) -> Result<(SecretKey, PublicKey)> {
        unsafe {
            let mut kg = ptr::null_mut();
            check(KeyGenerator_Create1(self.ctx.ptr, &mut kg), "KeyGenerator_Create")?;
            let kg = Owned::new(kg, KeyGenerator_Destroy, "KeyGenerator")?;
            let mut sk = ptr::null_mut();
            check(KeyGenerator_SecretKey(kg.ptr, &mut sk), "KeyGenerator_SecretKey")?;
            let sk = Owned::new(sk, SecretKey_Destroy, "SecretKey")?;
            // Never seeded: Java clients (and the pure-Java encryptor) need the full key.
            let mut pk = ptr::null_mut();
            check(KeyGenerator_CreatePublicKey(kg.ptr, false, &mut pk), "KeyGenerator_CreatePublicKey")?;
            let pk = Owned::new(pk, PublicKey_Destroy, "PublicKey")?;
            Ok((SecretKey(sk), PublicKey(pk)))
        }
    }

    pub fn load_public_key(&self, bytes: &[u8]) -> Result<PublicKey> {
        precheck_object(bytes, &self.key_parms, self.n, self.key_primes, false, None, "public key")?;
        unsafe {
            let mut pk = ptr::null_mut();
            check(PublicKey_Create1(&mut pk), "PublicKey_Create")?;
            let pk = Owned::new(pk, PublicKey_Destroy, "PublicKey")?;
            load_exact(|p, len, read| PublicKey_Load(pk.ptr, self.ctx.ptr, p, len, read), bytes, "public key")?;
            Ok(PublicKey(pk))
        }
    }

    pub fn load_secret_key(&self, bytes: &[u8]) -> Result<SecretKey> {
        if bytes.len() < SEAL_HEADER_BYTES || read_u64(bytes, 8) != bytes.len() as u64 || bytes.len() > 64 * 1024 * 1024 {
            return Err(HeError::Malformed("secret key: header size field does not match the byte length".into()));
        }
        unsafe {
            let mut sk = ptr::null_mut();
            check(SecretKey_Create1(&mut sk), "SecretKey_Create")?;
            let sk = Owned::new(sk, SecretKey_Destroy, "SecretKey")?;
            load_exact(|p, len, read| SecretKey_Load(sk.ptr, self.ctx.ptr, p, len, read), bytes, "secret key")?;
            Ok(SecretKey(sk))
        }
    }

    pub fn encryptor(&self, pk: Option<&PublicKey>, sk: Option<&SecretKey>) -> Result<Encryptor> {
        unsafe {
            let mut e = ptr::null_mut();
            let pkp = pk.map_or(ptr::null_mut(), |k| k.0.ptr);
            let skp = sk.map_or(ptr::null_mut(), |k| k.0.ptr);
            check(Encryptor_Create(self.ctx.ptr, pkp, skp, &mut e), "Encryptor_Create")?;
            Ok(Encryptor { inner: Owned::new(e, Encryptor_Destroy, "Encryptor")?, symmetric: pk.is_none() })
        }
    }

    pub fn decryptor(&self, sk: &SecretKey) -> Result<Decryptor> {
        unsafe {
            let mut d = ptr::null_mut();
            check(Decryptor_Create(self.ctx.ptr, sk.0.ptr, &mut d), "Decryptor_Create")?;
            Ok(Decryptor(Owned::new(d, Decryptor_Destroy, "Decryptor")?))
        }
    }

    fn new_plaintext(&self) -> Result<Owned> {
        unsafe {
            let mut p = ptr::null_mut();
            check(Plaintext_Create1(ptr::null_mut(), &mut p), "Plaintext_Create")?;
            Owned::new(p, Plaintext_Destroy, "Plaintext")
        }
    }

    fn new_ciphertext(&self) -> Result<Owned> {
        unsafe {
            let mut c = ptr::null_mut();
            check(Ciphertext_Create1(ptr::null_mut(), &mut c), "Ciphertext_Create")?;
            Owned::new(c, Ciphertext_Destroy, "Ciphertext")
        }
    }

    /// Encrypts `values` into as many last-level ciphertexts as needed.
    pub fn encrypt(&self, enc: &Encryptor, values: &[f64], packed: bool) -> Result<CtVec> {
        let per = self.values_per_ciphertext(packed);
        let mut entries = Vec::with_capacity(values.len().div_ceil(per).max(1));
        let mut buf = vec![0f64; per];
        let plain = self.new_plaintext()?;
        let mut parms = self.last_parms;
        for piece in values.chunks(per) {
            buf[..piece.len()].copy_from_slice(piece);
            buf[piece.len()..].fill(0.0);
            unsafe {
                let hr = if packed {
                    CKKSEncoder_Encode2(self.encoder.ptr, self.slots, buf.as_mut_ptr(), parms.as_mut_ptr(), self.scale, plain.ptr, ptr::null_mut())
                } else {
                    CKKSEncoder_Encode1(self.encoder.ptr, self.slots, buf.as_mut_ptr(), parms.as_mut_ptr(), self.scale, plain.ptr, ptr::null_mut())
                };
                check(hr, "CKKSEncoder_Encode (values too large for the scale?)")?;
                let ct = self.new_ciphertext()?;
                if enc.symmetric {
                    // Seeded: c1 is replaced by the PRNG seed, halving the bytes. Such a
                    // ciphertext is unusable in memory until it has been saved and loaded,
                    // so it is kept only in serialized form.
                    check(Encryptor_EncryptSymmetric(enc.inner.ptr, plain.ptr, true, ct.ptr, ptr::null_mut()), "Encryptor_EncryptSymmetric")?;
                    let wire = save_ciphertext(&ct)?;
                    entries.push(Entry { live: None, wire: Some(wire) });
                } else {
                    check(Encryptor_Encrypt(enc.inner.ptr, plain.ptr, ct.ptr, ptr::null_mut()), "Encryptor_Encrypt")?;
                    entries.push(Entry { live: Some(ct), wire: None });
                }
            }
        }
        Ok(CtVec { entries })
    }

    /// Loads ciphertexts: always prechecked (exact length, header, parameter id, level, shape,
    /// scale); with `validate`, SEAL's validating loader also checks that every coefficient is
    /// below its modulus (untrusted bytes). Without, SEAL's `unsafe_load` copies the coefficients
    /// as they are: for bytes this process validated before (an out-of-range coefficient would
    /// give a wrong sum, never an out-of-bounds access: the shape was checked).
    pub fn load_vector(&self, parts: &[&[u8]], validate: bool) -> Result<CtVec> {
        let mut entries = Vec::with_capacity(parts.len());
        for (i, bytes) in parts.iter().enumerate() {
            let ct = self.load_ciphertext(bytes, validate).map_err(|e| match e {
                HeError::Malformed(m) => HeError::Malformed(format!("ciphertext {i}: {m}")),
                other => other,
            })?;
            // Keep the received bytes as the canonical form only if they are the exact save of what we loaded.
            entries.push(Entry { live: Some(ct), wire: None });
        }
        Ok(CtVec { entries })
    }

    fn load_ciphertext(&self, bytes: &[u8], validate: bool) -> Result<Owned> {
        precheck_object(bytes, &self.last_parms, self.n, 1, true, Some(self.scale), "ciphertext")?;
        let ct = self.new_ciphertext()?;
        unsafe {
            // SEAL's Load is UnsafeLoad followed by is_valid_for (metadata and every coefficient).
            if validate {
                load_exact(|p, len, read| Ciphertext_Load(ct.ptr, self.ctx.ptr, p, len, read), bytes, "ciphertext")?;
            } else {
                load_exact(|p, len, read| Ciphertext_UnsafeLoad(ct.ptr, self.ctx.ptr, p, len, read), bytes, "ciphertext")?;
            }
        }
        Ok(ct)
    }

    fn live<'a>(&self, e: &'a mut Entry) -> Result<&'a Owned> {
        if e.live.is_none() {
            let bytes = e.wire.as_ref().ok_or_else(|| HeError::Native("ciphertext has neither memory nor bytes".into()))?;
            e.live = Some(self.load_ciphertext(bytes, true)?);
        }
        Ok(e.live.as_ref().unwrap())
    }

    /// `target += other`, ciphertext by ciphertext.
    pub fn add_in_place(&self, target: &mut CtVec, other: &mut CtVec) -> Result<()> {
        if target.entries.len() != other.entries.len() {
            return Err(HeError::InvalidArgument(format!(
                "cannot add vectors of {} and {} ciphertexts",
                target.entries.len(),
                other.entries.len()
            )));
        }
        for (t, o) in target.entries.iter_mut().zip(other.entries.iter_mut()) {
            let optr = self.live(o)?.ptr;
            let tptr = self.live(t)?.ptr;
            unsafe { check(Evaluator_Add(self.evaluator.ptr, tptr, optr, tptr), "Evaluator_Add")? };
            t.wire = None;
        }
        Ok(())
    }

    /// Multiplies every value by an integer, exactly (the plaintext has scale 1).
    pub fn multiply_in_place(&self, target: &mut CtVec, factor: i64) -> Result<()> {
        if factor == 0 {
            return Err(HeError::InvalidArgument("factor 0 would make a transparent ciphertext".into()));
        }
        let plain = self.new_plaintext()?;
        let mut parms = self.last_parms;
        unsafe { check(CKKSEncoder_Encode5(self.encoder.ptr, factor, parms.as_mut_ptr(), plain.ptr), "CKKSEncoder_Encode(int)")? };
        for t in target.entries.iter_mut() {
            let tptr = self.live(t)?.ptr;
            unsafe { check(Evaluator_MultiplyPlain(self.evaluator.ptr, tptr, plain.ptr, tptr, ptr::null_mut()), "Evaluator_MultiplyPlain")? };
            t.wire = None;
        }
        Ok(())
    }

    pub fn copy(&self, v: &mut CtVec) -> Result<CtVec> {
        let mut entries = Vec::with_capacity(v.entries.len());
        for e in v.entries.iter_mut() {
            let src = self.live(e)?.ptr;
            let mut c = ptr::null_mut();
            unsafe { check(Ciphertext_Create2(src, &mut c), "Ciphertext_Create(copy)")? };
            entries.push(Entry { live: Some(Owned::new(c, Ciphertext_Destroy, "Ciphertext")?), wire: e.wire.clone() });
        }
        Ok(CtVec { entries })
    }

    /// The byte length of each ciphertext's serialization (uncompressed), in order.
    pub fn save_sizes(&self, v: &CtVec) -> Result<Vec<usize>> {
        v.entries
            .iter()
            .map(|e| match (&e.wire, &e.live) {
                (Some(w), _) => Ok(w.len()),
                (None, Some(ct)) => {
                    let mut n = 0i64;
                    unsafe { check(Ciphertext_SaveSize(ct.ptr, COMPR_NONE, &mut n), "Ciphertext_SaveSize")? };
                    Ok(n as usize)
                }
                (None, None) => Err(HeError::Native("empty ciphertext entry".into())),
            })
            .collect()
    }

    /// Writes each ciphertext's uncompressed serialization (the canonical bytes that get hashed)
    /// into `outs[i]`, which must have exactly the length [`save_sizes`](Self::save_sizes) gave.
    pub fn save_vector_into(&self, v: &CtVec, outs: &mut [&mut [u8]]) -> Result<()> {
        if outs.len() != v.entries.len() {
            return Err(HeError::InvalidArgument(format!("{} outputs for {} ciphertexts", outs.len(), v.entries.len())));
        }
        for (e, out) in v.entries.iter().zip(outs.iter_mut()) {
            match (&e.wire, &e.live) {
                (Some(w), _) if w.len() == out.len() => out.copy_from_slice(w),
                (None, Some(ct)) => {
                    let mut written = 0i64;
                    unsafe {
                        check(Ciphertext_Save(ct.ptr, out.as_mut_ptr(), out.len() as u64, COMPR_NONE, &mut written), "Ciphertext_Save")?
                    };
                    if written as usize != out.len() {
                        return Err(HeError::Native(format!("ciphertext saved {written} bytes, {} announced", out.len())));
                    }
                }
                (None, None) => return Err(HeError::Native("empty ciphertext entry".into())),
                _ => return Err(HeError::InvalidArgument("output size differs from the ciphertext's".into())),
            }
        }
        Ok(())
    }

    /// Decrypts and decodes; returns the first `length` values.
    pub fn decrypt(&self, dec: &Decryptor, v: &mut CtVec, packed: bool, length: usize) -> Result<Vec<f64>> {
        let per = self.values_per_ciphertext(packed);
        if length > per * v.entries.len() {
            return Err(HeError::InvalidArgument(format!("length {length} exceeds the {} values the vector holds", per * v.entries.len())));
        }
        let mut out = Vec::with_capacity(length);
        let plain = self.new_plaintext()?;
        let mut buf = vec![0f64; per];
        for e in v.entries.iter_mut() {
            if out.len() >= length {
                break;
            }
            let ct = self.live(e)?.ptr;
            unsafe {
                check(Decryptor_Decrypt(dec.0.ptr, ct, plain.ptr), "Decryptor_Decrypt")?;
                let mut count = 0u64;
                let hr = if packed {
                    CKKSEncoder_Decode2(self.encoder.ptr, plain.ptr, &mut count, buf.as_mut_ptr(), ptr::null_mut())
                } else {
                    CKKSEncoder_Decode1(self.encoder.ptr, plain.ptr, &mut count, buf.as_mut_ptr(), ptr::null_mut())
                };
                check(hr, "CKKSEncoder_Decode")?;
            }
            let take = (length - out.len()).min(per);
            out.extend_from_slice(&buf[..take]);
        }
        Ok(out)
    }
}

fn save_ciphertext(ct: &Owned) -> Result<Vec<u8>> {
    save_with(|s| unsafe { Ciphertext_SaveSize(ct.ptr, COMPR_NONE, s) }, |p, n, w| unsafe { Ciphertext_Save(ct.ptr, p, n, COMPR_NONE, w) }, "ciphertext")
}

fn save_with(
    size: impl Fn(*mut i64) -> HResult,
    save: impl Fn(*mut u8, u64, *mut i64) -> HResult,
    what: &str,
) -> Result<Vec<u8>> {
    let mut n = 0i64;
    check(size(&mut n), what)?;
    let mut out = vec![0u8; n as usize];
    let mut written = 0i64;
    check(save(out.as_mut_ptr(), out.len() as u64, &mut written), what)?;
    out.truncate(written as usize);
    Ok(out)
}

/// Runs a SEAL loader and insists that it consumed every byte given.
fn load_exact(load: impl Fn(*mut u8, u64, *mut i64) -> HResult, bytes: &[u8], what: &str) -> Result<()> {
    let mut read = 0i64;
    // SEAL's C API takes a non-const pointer but only reads through it (it calls load(const seal_byte *, ...)).
    let hr = load(bytes.as_ptr() as *mut u8, bytes.len() as u64, &mut read);
    if hr != S_OK {
        return Err(HeError::Malformed(format!("{what}: SEAL refused to load it ({})", match check(hr, "load") {
            Err(HeError::InvalidArgument(_)) => "invalid for this context",
            Err(HeError::Native(ref m)) if m.contains("I/O") => "truncated or corrupt",
            _ => "invalid",
        })));
    }
    if read as usize != bytes.len() {
        return Err(HeError::Malformed(format!("{what}: {} trailing bytes after the object", bytes.len() as i64 - read)));
    }
    Ok(())
}

pub struct PublicKey(Owned);
pub struct SecretKey(Owned);
pub struct Decryptor(Owned);
pub struct Encryptor {
    inner: Owned,
    symmetric: bool,
}

impl PublicKey {
    pub fn save(&self) -> Result<Vec<u8>> {
        save_with(|s| unsafe { PublicKey_SaveSize(self.0.ptr, COMPR_NONE, s) }, |p, n, w| unsafe { PublicKey_Save(self.0.ptr, p, n, COMPR_NONE, w) }, "public key")
    }
}

impl SecretKey {
    pub fn save(&self) -> Result<Vec<u8>> {
        save_with(|s| unsafe { SecretKey_SaveSize(self.0.ptr, COMPR_NONE, s) }, |p, n, w| unsafe { SecretKey_Save(self.0.ptr, p, n, COMPR_NONE, w) }, "secret key")
    }
}

struct Entry {
    /// The ciphertext in memory, once usable.
    live: Option<Owned>,
    /// Its serialized form while it is still exact (seeded ciphertexts start here).
    wire: Option<Vec<u8>>,
}

/// A vector of last-level CKKS ciphertexts.
pub struct CtVec {
    entries: Vec<Entry>,
}

impl CtVec {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
