//! The baseline commit's source, checked out with git2 beside the build, for building and
//! benchmarking it next to the current code.
//!
//! The commit's tree is written to `<root>/src-<commit>` (a detached checkout through git2's
//! `checkout_tree` with a target directory) and reused while it is complete: a marker file
//! holding the commit id is written last. `<root>` is the cache directory when that lies
//! outside the work tree, and else a directory of the system's temporary directory named after
//! the work tree ([`checkout_root`]): cargo reads `.cargo/config.toml` from the directory it
//! runs in and every parent, and rustup its `rust-toolchain.toml` likewise, so a checkout inside
//! the work tree would build the baseline commit with the configuration of the code under test
//! (its rustflags, `[env]`, toolchain), not its own. Every file of the checkout gets the
//! commit's time as its modification time, so that a checkout made again (a cleaned temporary
//! directory, a fresh CI runner with the build restored from a cache) leaves cargo's
//! fingerprints fresh and nothing is rebuilt. Unlike `git worktree add`, this leaves the user's
//! repository untouched (no branch, no entry under `.git/worktrees`), and a crashed run leaves
//! at worst an unmarked directory that the next run replaces. The build goes to its own target
//! directory (`<cache>/target` by default), kept between runs so that only the first
//! confirmation pays for a full build.

use std::path::{Path, PathBuf};

use git2::{Repository, build::CheckoutBuilder};

use crate::error::{Error, Result};

const MARKER: &str = ".perfgate-commit";

/// A prepared checkout of the baseline commit.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The full commit id.
    pub commit: String,
    /// The crate to bench inside the checkout (the current directory's place in the repository).
    pub project_dir: PathBuf,
}

/// Resolves `rev` in the repository containing `dir` and checks it out under `cache`, reusing a
/// complete earlier checkout of the same commit.
pub fn prepare(dir: &Path, rev: &str, cache: &Path) -> Result<Checkout> {
    let repo = Repository::discover(dir).map_err(|e| {
        Error::Git(format!(
            "{} is not inside a git repository ({})",
            dir.display(),
            e.message()
        ))
    })?;
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| Error::Git(format!("cannot resolve {rev:?}: {}", e.message())))?;
    let id = commit.id().to_string();
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Git("the repository has no work tree".into()))?
        .canonicalize()
        .map_err(|e| Error::io(dir, e))?;
    let here = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let rel = here.strip_prefix(&workdir).unwrap_or(Path::new(""));
    // libgit2 resolves a relative target directory against the repository, not this process.
    let cache = std::path::absolute(cache).map_err(|e| Error::io(cache, e))?;
    for root in [repo.workdir().map(Path::to_path_buf), Some(workdir.clone())]
        .into_iter()
        .flatten()
    {
        refuse_symlinks(&root, &cache)?;
    }
    let root = checkout_root(&workdir, &cache)?;
    let dest = root.join(format!(
        "src-{}",
        crate::baseline::git::short_oid(commit.id())
    ));
    let marker = dest.join(MARKER);
    let complete = std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() == id);
    if !complete {
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
        }
        std::fs::create_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
        let mut co = CheckoutBuilder::new();
        // The user's index must stay as it is: only the files under `dest` are written.
        co.target_dir(&dest)
            .force()
            .recreate_missing(true)
            .update_index(false);
        repo.checkout_tree(commit.as_object(), Some(&mut co))
            .map_err(|e| {
                Error::Git(format!(
                    "checkout of {id} into {}: {}",
                    dest.display(),
                    e.message()
                ))
            })?;
        let time = u64::try_from(commit.time().seconds()).unwrap_or(0);
        set_times(
            &dest,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(time),
        )?;
        std::fs::write(&marker, &id).map_err(|e| Error::io(&marker, e))?;
    }
    Ok(Checkout {
        commit: id,
        project_dir: dest.join(rel),
    })
}

/// Where checkouts go: `cache` when it lies outside the work tree `workdir` (both absolute),
/// else `<temp>/perfgate-src-<hash of the work tree's path>`, one per work tree and stable
/// across runs. An error when that is inside the work tree too (a `TMPDIR` there).
pub fn checkout_root(workdir: &Path, cache: &Path) -> Result<PathBuf> {
    if !cache.starts_with(workdir) {
        return Ok(cache.to_path_buf());
    }
    let tmp = std::path::absolute(std::env::temp_dir())
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let tmp = tmp.canonicalize().unwrap_or(tmp);
    if tmp.starts_with(workdir) {
        return Err(Error::Git(format!(
            "cannot check out the baseline commit outside the work tree {}: the temporary directory {} is inside it (set TMPDIR, or CARGO_TARGET_DIR, to a directory outside it)",
            workdir.display(),
            tmp.display()
        )));
    }
    let key = crate::stats::rng::seed_from(&[&workdir.to_string_lossy()]);
    Ok(tmp.join(format!("perfgate-src-{key:016x}")))
}

/// Gives every file under `dir` the modification time `t` (symbolic links keep theirs).
fn set_times(dir: &Path, t: std::time::SystemTime) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            set_times(&path, t)?;
        } else if kind.is_file() {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(t))
                .map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Refuses a cache directory reached through a symbolic link inside the work tree: a
/// committed `target` symlink would otherwise put the checkout, and everything built and run
/// there, wherever it points. A cache outside the work tree (a `CARGO_TARGET_DIR` the user
/// chose) is theirs to arrange.
fn refuse_symlinks(workdir: &Path, cache: &Path) -> Result<()> {
    let Ok(rel) = cache.strip_prefix(workdir) else {
        return Ok(());
    };
    let mut p = workdir.to_path_buf();
    for c in rel.components() {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::Git(format!(
                    "refusing to check out the baseline commit under {}: {} is a symbolic link",
                    cache.display(),
                    p.display()
                )));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}
