//! Running code where a file's mode cannot be changed, to see whether it
//! creates files and folders with the right mode or fixes the mode afterwards.
//!
//! A file created with the default mode (0644) and `chmod`-ed to 0600 a moment
//! later can be opened by anyone in between, and whoever opened it keeps
//! reading. Looking at the finished file cannot see that moment. So the code
//! runs on a thread of its own under a seccomp filter (Linux) on which
//! `chmod`, `fchmod`, `fchmodat` and `fchmodat2` fail with EPERM: code that
//! creates with the right mode never calls them; code that fixes the mode
//! afterwards gets an error, or, if it ignores it, leaves a file with the
//! default mode. The filter is per thread (no TSYNC), so nothing else in the
//! test process is affected.
//!
//! Elsewhere (other systems, other processors, or a kernel without seccomp)
//! [`without_chmod`] says why it cannot, and a check sees only the final mode.

/// Runs `f` on a new thread on which changing a file's mode fails with EPERM.
/// `Err(why)` when this system cannot forbid it; then `f` did not run.
pub fn without_chmod<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        let thread = scope.spawn(move || {
            imp::forbid_chmod()?;
            Ok(f())
        });
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod imp {
    /// `struct sock_filter` (linux/filter.h): one classic BPF instruction.
    #[repr(C)]
    struct Instruction {
        code: u16,
        jt: u8,
        jf: u8,
        k: u32,
    }

    /// `struct sock_fprog`: the program.
    #[repr(C)]
    struct Program {
        len: u16,
        filter: *const Instruction,
    }

    const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K
    const ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW
    const FAIL_WITH_EPERM: u32 = 0x0005_0000 | libc::EPERM as u32; // SECCOMP_RET_ERRNO
    const PR_SET_NO_NEW_PRIVS: libc::c_int = 38;
    const PR_SET_SECCOMP: libc::c_int = 22;
    const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

    // `struct seccomp_data`: the system call's number at 0, its architecture at 4.
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    // chmod, fchmod, fchmodat, fchmodat2
    #[cfg(target_arch = "x86_64")]
    const CHMODS: &[u32] = &[90, 91, 268, 452];
    #[cfg(target_arch = "aarch64")]
    const ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    // fchmod, fchmodat, fchmodat2 (aarch64 has no plain chmod)
    #[cfg(target_arch = "aarch64")]
    const CHMODS: &[u32] = &[52, 53, 452];

    pub fn forbid_chmod() -> Result<(), String> {
        let n = CHMODS.len() as u8;
        let op = |code, jt, jf, k| Instruction { code, jt, jf, k };
        // 0: load arch; 1: another arch → allow; 2: load nr; 3…: a chmod → fail;
        // then allow, then fail.
        let mut filter = vec![
            op(LOAD_WORD, 0, 0, 4),
            op(JUMP_IF_EQUAL, 0, n + 1, ARCH),
            op(LOAD_WORD, 0, 0, 0),
        ];
        for (i, &nr) in CHMODS.iter().enumerate() {
            filter.push(op(JUMP_IF_EQUAL, n - i as u8, 0, nr));
        }
        filter.push(op(RETURN, 0, 0, ALLOW));
        filter.push(op(RETURN, 0, 0, FAIL_WITH_EPERM));
        let program = Program {
            len: filter.len() as u16,
            filter: filter.as_ptr(),
        };
        // SAFETY: prctl with these options reads only `program`, which outlives
        // the call; both settings apply to this thread alone.
        unsafe {
            if libc::prctl(PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(format!(
                    "cannot set no_new_privs: {}",
                    std::io::Error::last_os_error()
                ));
            }
            if libc::prctl(
                PR_SET_SECCOMP,
                SECCOMP_MODE_FILTER,
                &program as *const Program as libc::c_ulong,
                0,
                0,
            ) != 0
            {
                return Err(format!(
                    "this kernel refused a seccomp filter: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod imp {
    pub fn forbid_chmod() -> Result<(), String> {
        Err("only on Linux (x86_64 or aarch64) can a check forbid chmod".into())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    fn folder(what: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("oauth2-lab-nochmod-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn chmod_fails_and_creating_with_a_mode_works() {
        let dir = folder("works");
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, "x").unwrap();
        let Ok((chmod, file)) = without_chmod(|| {
            let chmod = std::fs::set_permissions(&a, PermissionsExt::from_mode(0o600));
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&b)
                .and_then(|f| f.set_permissions(PermissionsExt::from_mode(0o640)));
            (chmod, file)
        }) else {
            eprintln!("this system cannot forbid chmod: nothing to test");
            return;
        };
        assert_eq!(chmod.unwrap_err().raw_os_error(), Some(libc::EPERM));
        assert_eq!(file.unwrap_err().raw_os_error(), Some(libc::EPERM));
        let mode = std::fs::metadata(&b).unwrap().permissions().mode() & 0o777;
        assert_eq!(format!("{mode:o}"), "600");
        // Other threads are not affected.
        std::fs::set_permissions(&a, PermissionsExt::from_mode(0o600)).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
