//! Declarations of the SEAL C API functions he-native calls directly.
//!
//! sealy's safe API keeps its raw handles private and serializes with zstd
//! compression; he-native needs uncompressed canonical bytes, complex
//! encoding, seeded symmetric encryption and validated loading, so it talks
//! to the C API itself. The static SEAL libraries come in through sealy.
#![allow(non_snake_case)]

use std::os::raw::{c_char, c_int, c_long, c_void};

pub type HResult = c_long;

pub const S_OK: HResult = 0;
pub const E_POINTER: HResult = 0x80004003u32 as i32 as HResult;
pub const E_INVALIDARG: HResult = 0x80070057u32 as i32 as HResult;
pub const E_OUTOFMEMORY: HResult = 0x8007000Eu32 as i32 as HResult;
pub const COR_E_IO: HResult = 0x80131620u32 as i32 as HResult;
pub const COR_E_INVALIDOPERATION: HResult = 0x80131509u32 as i32 as HResult;

/// SEAL's scheme id for CKKS.
pub const SCHEME_CKKS: u8 = 2;
/// `sec_level_type::tc128`.
pub const SEC_LEVEL_TC128: c_int = 128;
/// `compr_mode_type::none`.
pub const COMPR_NONE: u8 = 0;

extern "C" {
    pub fn EncParams_Create1(scheme: u8, enc_params: *mut *mut c_void) -> HResult;
    pub fn EncParams_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn EncParams_SetPolyModulusDegree(thisptr: *mut c_void, degree: u64) -> HResult;
    pub fn EncParams_SetCoeffModulus(thisptr: *mut c_void, length: u64, coeffs: *mut *mut c_void) -> HResult;

    pub fn CoeffModulus_Create1(poly_modulus_degree: u64, length: u64, bit_sizes: *mut c_int, coeffs: *mut *mut c_void) -> HResult;
    pub fn CoeffModulus_MaxBitCount(poly_modulus_degree: u64, sec_level: c_int, bit_count: *mut c_int) -> HResult;
    pub fn Modulus_Destroy(thisptr: *mut c_void) -> HResult;

    pub fn SEALContext_Create(enc_params: *mut c_void, expand_mod_chain: bool, sec_level: c_int, context: *mut *mut c_void) -> HResult;
    pub fn SEALContext_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn SEALContext_ParametersSet(thisptr: *mut c_void, params_set: *mut bool) -> HResult;
    pub fn SEALContext_ParameterErrorMessage(thisptr: *mut c_void, outstr: *mut c_char, length: *mut u64) -> HResult;
    pub fn SEALContext_KeyParmsId(thisptr: *mut c_void, parms_id: *mut u64) -> HResult;
    pub fn SEALContext_LastParmsId(thisptr: *mut c_void, parms_id: *mut u64) -> HResult;

    pub fn KeyGenerator_Create1(context: *mut c_void, key_generator: *mut *mut c_void) -> HResult;
    pub fn KeyGenerator_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn KeyGenerator_SecretKey(thisptr: *mut c_void, secret_key: *mut *mut c_void) -> HResult;
    pub fn KeyGenerator_CreatePublicKey(thisptr: *mut c_void, save_seed: bool, public_key: *mut *mut c_void) -> HResult;

    pub fn PublicKey_Create1(public_key: *mut *mut c_void) -> HResult;
    pub fn PublicKey_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn PublicKey_SaveSize(thisptr: *mut c_void, compr_mode: u8, result: *mut i64) -> HResult;
    pub fn PublicKey_Save(thisptr: *mut c_void, outptr: *mut u8, size: u64, compr_mode: u8, out_bytes: *mut i64) -> HResult;
    pub fn PublicKey_Load(thisptr: *mut c_void, context: *mut c_void, inptr: *mut u8, size: u64, in_bytes: *mut i64) -> HResult;

    pub fn SecretKey_Create1(secret_key: *mut *mut c_void) -> HResult;
    pub fn SecretKey_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn SecretKey_SaveSize(thisptr: *mut c_void, compr_mode: u8, result: *mut i64) -> HResult;
    pub fn SecretKey_Save(thisptr: *mut c_void, outptr: *mut u8, size: u64, compr_mode: u8, out_bytes: *mut i64) -> HResult;
    pub fn SecretKey_Load(thisptr: *mut c_void, context: *mut c_void, inptr: *mut u8, size: u64, in_bytes: *mut i64) -> HResult;

    pub fn Plaintext_Create1(pool: *mut c_void, plaintext: *mut *mut c_void) -> HResult;
    pub fn Plaintext_Destroy(thisptr: *mut c_void) -> HResult;

    pub fn Ciphertext_Create1(pool: *mut c_void, cipher: *mut *mut c_void) -> HResult;
    pub fn Ciphertext_Create2(copy: *mut c_void, cipher: *mut *mut c_void) -> HResult;
    pub fn Ciphertext_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn Ciphertext_SaveSize(thisptr: *mut c_void, compr_mode: u8, result: *mut i64) -> HResult;
    pub fn Ciphertext_Save(thisptr: *mut c_void, outptr: *mut u8, size: u64, compr_mode: u8, out_bytes: *mut i64) -> HResult;
    pub fn Ciphertext_Load(thisptr: *mut c_void, context: *mut c_void, inptr: *mut u8, size: u64, in_bytes: *mut i64) -> HResult;
    pub fn Ciphertext_UnsafeLoad(thisptr: *mut c_void, context: *mut c_void, inptr: *mut u8, size: u64, in_bytes: *mut i64) -> HResult;

    pub fn CKKSEncoder_Create(context: *mut c_void, encoder: *mut *mut c_void) -> HResult;
    pub fn CKKSEncoder_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn CKKSEncoder_SlotCount(thisptr: *mut c_void, slot_count: *mut u64) -> HResult;
    pub fn CKKSEncoder_Encode1(thisptr: *mut c_void, value_count: u64, values: *mut f64, parms_id: *mut u64, scale: f64, destination: *mut c_void, pool: *mut c_void) -> HResult;
    pub fn CKKSEncoder_Encode2(thisptr: *mut c_void, value_count: u64, complex_values: *mut f64, parms_id: *mut u64, scale: f64, destination: *mut c_void, pool: *mut c_void) -> HResult;
    pub fn CKKSEncoder_Encode5(thisptr: *mut c_void, value: i64, parms_id: *mut u64, destination: *mut c_void) -> HResult;
    pub fn CKKSEncoder_Decode1(thisptr: *mut c_void, plain: *mut c_void, value_count: *mut u64, values: *mut f64, pool: *mut c_void) -> HResult;
    pub fn CKKSEncoder_Decode2(thisptr: *mut c_void, plain: *mut c_void, value_count: *mut u64, values: *mut f64, pool: *mut c_void) -> HResult;

    pub fn Encryptor_Create(context: *mut c_void, public_key: *mut c_void, secret_key: *mut c_void, encryptor: *mut *mut c_void) -> HResult;
    pub fn Encryptor_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn Encryptor_Encrypt(thisptr: *mut c_void, plaintext: *mut c_void, destination: *mut c_void, pool: *mut c_void) -> HResult;
    pub fn Encryptor_EncryptSymmetric(thisptr: *mut c_void, plaintext: *mut c_void, save_seed: bool, destination: *mut c_void, pool: *mut c_void) -> HResult;

    pub fn Decryptor_Create(context: *mut c_void, secret_key: *mut c_void, decryptor: *mut *mut c_void) -> HResult;
    pub fn Decryptor_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn Decryptor_Decrypt(thisptr: *mut c_void, encrypted: *mut c_void, destination: *mut c_void) -> HResult;

    pub fn Evaluator_Create(context: *mut c_void, evaluator: *mut *mut c_void) -> HResult;
    pub fn Evaluator_Destroy(thisptr: *mut c_void) -> HResult;
    pub fn Evaluator_Add(thisptr: *mut c_void, encrypted1: *mut c_void, encrypted2: *mut c_void, destination: *mut c_void) -> HResult;
    pub fn Evaluator_MultiplyPlain(thisptr: *mut c_void, encrypted: *mut c_void, plain: *mut c_void, destination: *mut c_void, pool: *mut c_void) -> HResult;
}
