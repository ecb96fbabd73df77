//! The tiny static child: the smallest program Linux will run.
//!
//! A benchmark of the spawn path needs a child whose own cost is close to zero: no dynamic
//! loader, no libc start-up, just `exit(0)`. Rather than depend on a build step producing a
//! `crt-static` binary (which needs the static libc installed and a second target), the ELF
//! file is generated here: a 64-byte ELF header, one 56-byte `PT_LOAD` program header and the
//! machine code of `exit(0)` for the running architecture (x86_64 or aarch64), 132 bytes in
//! all. It is written once to the temporary directory, through a temporary file renamed into
//! place so that no process ever executes a half-written file (or one still open for writing,
//! which `execve` refuses with `ETXTBSY`), and reused while its content is right. Where the
//! temporary directory is mounted `noexec`, spawning it fails with "permission denied": point
//! `TMPDIR` elsewhere.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::OnceLock;

const LOAD_ADDR: u64 = 0x40_0000;
const HEADERS: usize = 64 + 56;

/// `exit(0)` for this architecture and its ELF machine number.
fn exit0_code() -> Option<(u16, &'static [u8])> {
    if cfg!(target_arch = "x86_64") {
        // xor edi, edi; mov eax, 60 (exit); syscall
        Some((62, &[0x31, 0xff, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05]))
    } else if cfg!(target_arch = "aarch64") {
        // mov x0, #0; mov x8, #93 (exit); svc #0
        Some((
            183,
            &[
                0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
            ],
        ))
    } else {
        None
    }
}

/// The bytes of the ELF file, or `None` on an architecture without machine code here.
pub(crate) fn exit0_elf() -> Option<Vec<u8>> {
    let (machine, code) = exit0_code()?;
    let size = (HEADERS + code.len()) as u64;
    let mut f = Vec::with_capacity(size as usize);
    // e_ident: magic, 64-bit, little-endian, version 1, System V ABI, padding.
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&2u16.to_le_bytes()); // e_type: executable
    f.extend_from_slice(&machine.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes()); // e_version
    f.extend_from_slice(&(LOAD_ADDR + HEADERS as u64).to_le_bytes()); // e_entry
    f.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    f.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    f.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    f.extend_from_slice(&1u32.to_le_bytes()); // p_type: PT_LOAD
    f.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R + X
    f.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    f.extend_from_slice(&LOAD_ADDR.to_le_bytes()); // p_vaddr
    f.extend_from_slice(&LOAD_ADDR.to_le_bytes()); // p_paddr
    f.extend_from_slice(&size.to_le_bytes()); // p_filesz
    f.extend_from_slice(&size.to_le_bytes()); // p_memsz
    f.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    f.extend_from_slice(code);
    debug_assert_eq!(f.len() as u64, size);
    Some(f)
}

/// The path of the tiny static child (see the module docs), created on first use.
pub fn tiny_static_child() -> std::io::Result<PathBuf> {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(|| create().map_err(|e| e.to_string()))
        .clone()
        .map_err(std::io::Error::other)
}

fn create() -> std::io::Result<PathBuf> {
    let bytes = exit0_elf().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no tiny static child for this architecture",
        )
    })?;
    let dir = std::env::temp_dir();
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let path = dir.join(format!("perfgate-exit0-{}-{uid}", std::env::consts::ARCH));
    let current = std::fs::metadata(&path).ok();
    let fine = current.is_some_and(|m| m.permissions().mode() & 0o777 == 0o755)
        && std::fs::read(&path).is_ok_and(|b| b == bytes);
    if !fine {
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))?;
        // Closed before the rename: see the module docs.
        tmp.into_temp_path().persist(&path).map_err(|e| e.error)?;
    }
    Ok(path)
}
