//! JNI entry points for `org.fedseal.he.internal.NativeHe`.
//!
//! Handles are `Box` pointers cast to `jlong`; the Java side owns each one
//! and frees it exactly once through the matching `*Destroy` function.
//! Every function body runs under `catch_unwind`; errors map to exceptions:
//! `HeError::Malformed` → `org.fedseal.he.MalformedHeDataException` (checked),
//! `InvalidArgument` → `IllegalArgumentException`, `Native` and panics →
//! `org.fedseal.he.HeOperationException`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use jni::objects::{JByteArray, JClass, JDoubleArray, JIntArray};
use jni::sys::{jboolean, jbyteArray, jdouble, jdoubleArray, jint, jintArray, jlong, jlongArray, JNI_TRUE};
use jni::JNIEnv;

use crate::seal::{Context, CtVec, Decryptor, Encryptor, HeError, PublicKey, Result, SecretKey};

const MALFORMED: &str = "org/fedseal/he/MalformedHeDataException";
const OPERATION: &str = "org/fedseal/he/HeOperationException";
const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";

impl From<jni::errors::Error> for HeError {
    fn from(e: jni::errors::Error) -> Self {
        HeError::Native(format!("JNI: {e}"))
    }
}

/// Runs `body`, turning errors and panics into a pending Java exception.
fn run<'l, T>(env: &mut JNIEnv<'l>, on_error: T, body: impl FnOnce(&mut JNIEnv<'l>) -> Result<T>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    let (class, msg) = match outcome {
        Ok(Ok(v)) => return v,
        Ok(Err(HeError::Malformed(m))) => (MALFORMED, m),
        Ok(Err(HeError::InvalidArgument(m))) => (ILLEGAL_ARGUMENT, m),
        Ok(Err(HeError::Native(m))) => (OPERATION, m),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            (OPERATION, format!("native panic: {what}"))
        }
    };
    // A JNI failure may already have raised a Java exception; keep that one.
    if !env.exception_check().unwrap_or(true) {
        let _ = env.throw_new(class, msg);
    }
    on_error
}

fn into_handle<T>(v: T) -> jlong {
    Box::into_raw(Box::new(v)) as jlong
}

/// Borrows a handle. The Java side guarantees it is live (closed handles are
/// refused there) and keeps the owner reachable for the duration of the call.
fn borrow<'a, T>(h: jlong, what: &str) -> Result<&'a T> {
    if h == 0 {
        return Err(HeError::InvalidArgument(format!("{what} handle is null (closed?)")));
    }
    Ok(unsafe { &*(h as *const T) })
}

fn borrow_mut<'a, T>(h: jlong, what: &str) -> Result<&'a mut T> {
    if h == 0 {
        return Err(HeError::InvalidArgument(format!("{what} handle is null (closed?)")));
    }
    Ok(unsafe { &mut *(h as *mut T) })
}

fn destroy<T>(h: jlong) {
    if h != 0 {
        drop(unsafe { Box::from_raw(h as *mut T) });
    }
}

fn bytes_out(env: &mut JNIEnv, b: &[u8]) -> Result<jbyteArray> {
    Ok(env.byte_array_from_slice(b)?.into_raw())
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_contextCreate(
    mut env: JNIEnv,
    _c: JClass,
    n: jint,
    bits: JIntArray,
    scale: jdouble,
) -> jlong {
    run(&mut env, 0, |env| {
        let len = env.get_array_length(&bits)? as usize;
        let mut b = vec![0i32; len];
        env.get_int_array_region(&bits, 0, &mut b)?;
        if n <= 0 {
            return Err(HeError::InvalidArgument(format!("polynomial degree {n}")));
        }
        Ok(into_handle(Context::new(n as u64, &b, scale)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_contextDestroy(_env: JNIEnv, _c: JClass, h: jlong) {
    let _ = catch_unwind(|| destroy::<Context>(h));
}

/// [slots, full ciphertext bytes, seeded ciphertext bytes, public key bytes]
#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_contextSizes(mut env: JNIEnv, _c: JClass, h: jlong) -> jlongArray {
    run(&mut env, ptr::null_mut(), |env| {
        let ctx: &Context = borrow(h, "context")?;
        let vals = [ctx.slots as i64, ctx.ciphertext_size(false) as i64, ctx.ciphertext_size(true) as i64, ctx.public_key_size() as i64];
        let arr = env.new_long_array(vals.len() as i32)?;
        env.set_long_array_region(&arr, 0, &vals)?;
        Ok(arr.into_raw())
    })
}

/// Returns [secretKeyHandle, publicKeyHandle].
#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_generateKeys(mut env: JNIEnv, _c: JClass, h: jlong) -> jlongArray {
    run(&mut env, ptr::null_mut(), |env| {
        let ctx: &Context = borrow(h, "context")?;
        let (sk, pk) = ctx.generate_keys()?;
        let vals = [into_handle(sk), into_handle(pk)];
        let arr = env.new_long_array(2)?;
        env.set_long_array_region(&arr, 0, &vals)?;
        Ok(arr.into_raw())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_publicKeySave(mut env: JNIEnv, _c: JClass, h: jlong) -> jbyteArray {
    run(&mut env, ptr::null_mut(), |env| {
        let bytes = borrow::<PublicKey>(h, "public key")?.save()?;
        bytes_out(env, &bytes)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_publicKeyLoad(mut env: JNIEnv, _c: JClass, ctx: jlong, data: JByteArray) -> jlong {
    run(&mut env, 0, |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let bytes = env.convert_byte_array(&data)?;
        Ok(into_handle(ctx.load_public_key(&bytes)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_publicKeyDestroy(_env: JNIEnv, _c: JClass, h: jlong) {
    let _ = catch_unwind(|| destroy::<PublicKey>(h));
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_secretKeySave(mut env: JNIEnv, _c: JClass, h: jlong) -> jbyteArray {
    run(&mut env, ptr::null_mut(), |env| {
        let bytes = borrow::<SecretKey>(h, "secret key")?.save()?;
        bytes_out(env, &bytes)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_secretKeyLoad(mut env: JNIEnv, _c: JClass, ctx: jlong, data: JByteArray) -> jlong {
    run(&mut env, 0, |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let bytes = env.convert_byte_array(&data)?;
        Ok(into_handle(ctx.load_secret_key(&bytes)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_secretKeyDestroy(_env: JNIEnv, _c: JClass, h: jlong) {
    let _ = catch_unwind(|| destroy::<SecretKey>(h));
}

/// Exactly one of `pk`/`sk` is non-zero: public-key or symmetric (seeded) encryption.
#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_encryptorCreate(mut env: JNIEnv, _c: JClass, ctx: jlong, pk: jlong, sk: jlong) -> jlong {
    run(&mut env, 0, |_env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let pk = if pk != 0 { Some(borrow::<PublicKey>(pk, "public key")?) } else { None };
        let sk = if pk.is_none() { Some(borrow::<SecretKey>(sk, "secret key")?) } else { None };
        Ok(into_handle(ctx.encryptor(pk, sk)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_encryptorDestroy(_env: JNIEnv, _c: JClass, h: jlong) {
    let _ = catch_unwind(|| destroy::<Encryptor>(h));
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_decryptorCreate(mut env: JNIEnv, _c: JClass, ctx: jlong, sk: jlong) -> jlong {
    run(&mut env, 0, |_env| {
        let ctx: &Context = borrow(ctx, "context")?;
        Ok(into_handle(ctx.decryptor(borrow::<SecretKey>(sk, "secret key")?)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_decryptorDestroy(_env: JNIEnv, _c: JClass, h: jlong) {
    let _ = catch_unwind(|| destroy::<Decryptor>(h));
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_encrypt(
    mut env: JNIEnv,
    _c: JClass,
    ctx: jlong,
    enc: jlong,
    values: JDoubleArray,
    packed: jboolean,
) -> jlong {
    run(&mut env, 0, |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let enc: &Encryptor = borrow(enc, "encryptor")?;
        let len = env.get_array_length(&values)? as usize;
        let mut v = vec![0f64; len];
        env.get_double_array_region(&values, 0, &mut v)?;
        if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
            return Err(HeError::InvalidArgument(format!("cannot encrypt non-finite value {bad}")));
        }
        Ok(into_handle(ctx.encrypt(enc, &v, packed == JNI_TRUE)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorSaveSizes(mut env: JNIEnv, _c: JClass, ctx: jlong, v: jlong) -> jintArray {
    run(&mut env, ptr::null_mut(), |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let sizes = ctx.save_sizes(borrow::<CtVec>(v, "vector")?)?;
        let sizes: Vec<i32> = sizes
            .iter()
            .map(|&n| i32::try_from(n).map_err(|_| HeError::Native(format!("a ciphertext of {n} bytes"))))
            .collect::<Result<_>>()?;
        let arr = env.new_int_array(sizes.len() as i32)?;
        env.set_int_array_region(&arr, 0, &sizes)?;
        Ok(arr.into_raw())
    })
}

/// Saves ciphertext i into `bytes[offsets[i] .. offsets[i] + sizes[i]]`, sizes as
/// `vectorSaveSizes` gave them: written in place (a JNI critical section, no copy).
#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorSaveInto(
    mut env: JNIEnv,
    _c: JClass,
    ctx: jlong,
    v: jlong,
    bytes: JByteArray,
    offsets: JIntArray,
    sizes: JIntArray,
) {
    run(&mut env, (), |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let v = borrow::<CtVec>(v, "vector")?;
        let (off, len) = ranges(env, &bytes, &offsets, &sizes)?;
        // SAFETY: no JNI call until `elements` is dropped; the slices do not outlive it.
        let mut elements = unsafe { env.get_array_elements_critical(&bytes, jni::objects::ReleaseMode::CopyBack)? };
        let all: &mut [u8] = unsafe { std::slice::from_raw_parts_mut(elements.as_mut_ptr() as *mut u8, elements.len()) };
        let mut outs = disjoint_mut(all, &off, &len)?;
        ctx.save_vector_into(v, &mut outs)
    })
}

/// Reads `offsets` and `sizes` (equal lengths) and checks that every range lies inside `bytes`.
fn ranges(env: &mut JNIEnv, bytes: &JByteArray, offsets: &JIntArray, sizes: &JIntArray) -> Result<(Vec<usize>, Vec<usize>)> {
    if bytes.is_null() || offsets.is_null() || sizes.is_null() {
        return Err(HeError::InvalidArgument("null argument".into()));
    }
    let n = env.get_array_length(offsets)? as usize;
    if env.get_array_length(sizes)? as usize != n {
        return Err(HeError::InvalidArgument("offsets and sizes differ in length".into()));
    }
    let mut off = vec![0i32; n];
    let mut len = vec![0i32; n];
    env.get_int_array_region(offsets, 0, &mut off)?;
    env.get_int_array_region(sizes, 0, &mut len)?;
    let total = env.get_array_length(bytes)? as i64;
    for i in 0..n {
        if off[i] < 0 || len[i] < 0 || off[i] as i64 + len[i] as i64 > total {
            return Err(HeError::InvalidArgument(format!("ciphertext {i} lies outside the array")));
        }
    }
    Ok((off.iter().map(|&o| o as usize).collect(), len.iter().map(|&l| l as usize).collect()))
}

/// Splits `all` into the non-overlapping mutable ranges `[off[i], off[i] + len[i])`, in order.
fn disjoint_mut<'a>(mut all: &'a mut [u8], off: &[usize], len: &[usize]) -> Result<Vec<&'a mut [u8]>> {
    let mut out = Vec::with_capacity(off.len());
    let mut at = 0usize;
    for i in 0..off.len() {
        if off[i] < at {
            return Err(HeError::InvalidArgument(format!("ciphertext {i} overlaps the one before")));
        }
        let rest = std::mem::take(&mut all);
        let (_, tail) = rest.split_at_mut(off[i] - at);
        let (part, tail) = tail.split_at_mut(len[i]);
        out.push(part);
        all = tail;
        at = off[i] + len[i];
    }
    Ok(out)
}

/// `bytes[offsets[i] .. offsets[i] + sizes[i]]` is ciphertext i. The array is read in place
/// (a JNI critical section: no copy, and nothing in it calls back into the JVM).
#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorLoad(
    mut env: JNIEnv,
    _c: JClass,
    ctx: jlong,
    bytes: JByteArray,
    offsets: JIntArray,
    sizes: JIntArray,
    validate: jboolean,
) -> jlong {
    run(&mut env, 0, |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        let (off, len) = ranges(env, &bytes, &offsets, &sizes)?;
        let loaded = {
            // SAFETY: no JNI call until `elements` is dropped; the slices do not outlive it.
            let elements = unsafe { env.get_array_elements_critical(&bytes, jni::objects::ReleaseMode::NoCopyBack)? };
            let all: &[u8] = unsafe { std::slice::from_raw_parts(elements.as_ptr() as *const u8, elements.len()) };
            let parts: Vec<&[u8]> = off.iter().zip(&len).map(|(&o, &l)| &all[o..o + l]).collect();
            ctx.load_vector(&parts, validate == JNI_TRUE)
        };
        Ok(into_handle(loaded?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorAdd(mut env: JNIEnv, _c: JClass, ctx: jlong, target: jlong, other: jlong) {
    run(&mut env, (), |_env| {
        if target == other {
            return Err(HeError::InvalidArgument("cannot add a vector to itself in place; copy it first".into()));
        }
        let ctx: &Context = borrow(ctx, "context")?;
        ctx.add_in_place(borrow_mut::<CtVec>(target, "vector")?, borrow_mut::<CtVec>(other, "vector")?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorMultiply(mut env: JNIEnv, _c: JClass, ctx: jlong, target: jlong, factor: jlong) {
    run(&mut env, (), |_env| {
        let ctx: &Context = borrow(ctx, "context")?;
        ctx.multiply_in_place(borrow_mut::<CtVec>(target, "vector")?, factor)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorCopy(mut env: JNIEnv, _c: JClass, ctx: jlong, v: jlong) -> jlong {
    run(&mut env, 0, |_env| {
        let ctx: &Context = borrow(ctx, "context")?;
        Ok(into_handle(ctx.copy(borrow_mut::<CtVec>(v, "vector")?)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_vectorDestroy(_env: JNIEnv, _c: JClass, h: jlong) {
    let _ = catch_unwind(|| destroy::<CtVec>(h));
}

#[no_mangle]
pub extern "system" fn Java_org_fedseal_he_internal_NativeHe_decrypt(
    mut env: JNIEnv,
    _c: JClass,
    ctx: jlong,
    dec: jlong,
    v: jlong,
    packed: jboolean,
    length: jint,
) -> jdoubleArray {
    run(&mut env, ptr::null_mut(), |env| {
        let ctx: &Context = borrow(ctx, "context")?;
        if length < 0 {
            return Err(HeError::InvalidArgument(format!("length {length}")));
        }
        let out = ctx.decrypt(borrow(dec, "decryptor")?, borrow_mut::<CtVec>(v, "vector")?, packed == JNI_TRUE, length as usize)?;
        let arr = env.new_double_array(out.len() as i32)?;
        env.set_double_array_region(&arr, 0, &out)?;
        Ok(arr.into_raw())
    })
}
