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
    /// The checkout's root.
    pub dir: PathBuf,
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
        dir: dest,
    })
}

/// The file in a target directory that names the commit whose checkout was last built there.
const BUILT_MARKER: &str = ".perfgate-built-commit";

/// Readies the target directory `target` for building `checkout`. Every checkout is its own
/// workspace root, and cargo hashes a path package by its place relative to the workspace
/// root, so the checkouts of two commits build to the same units in one target directory,
/// and cargo decides their freshness by comparing file times with the last build's. The
/// checkout's files carry the commit's time, older than a build of another commit made since:
/// cargo would call that build fresh and run the other commit's code. So when the target
/// directory last built another commit (its marker says so), the checkout's files are given
/// the present time first, which makes cargo rebuild the workspace's own crates (never the
/// registry's). A target directory that last built this very commit (a run again, a CI cache
/// keyed by the commit) keeps its build.
pub fn claim_target(checkout: &Checkout, target: &Path) -> Result<()> {
    let marker = target.join(BUILT_MARKER);
    let last = std::fs::read_to_string(&marker).ok();
    if last.as_deref().map(str::trim) == Some(checkout.commit.as_str()) {
        return Ok(());
    }
    set_times(&checkout.dir, std::time::SystemTime::now())?;
    std::fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
    // Written before the build: a build that fails part-way leaves this commit's files newer
    // than every unit it did not rebuild, so the next build of it finishes the work.
    std::fs::write(&marker, &checkout.commit).map_err(|e| Error::io(&marker, e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn mtime(p: &Path) -> SystemTime {
        std::fs::metadata(p).unwrap().modified().unwrap()
    }

    #[test]
    fn a_target_that_built_another_commit_makes_the_checkout_newer_than_that_build() {
        let tmp = tempfile::tempdir().unwrap();
        let co = |commit: &str| {
            let dir = tmp.path().join(format!("src-{commit}"));
            std::fs::create_dir_all(dir.join("src")).unwrap();
            std::fs::write(dir.join("src/lib.rs"), commit).unwrap();
            set_times(&dir, UNIX_EPOCH + Duration::from_secs(1_000_000)).unwrap();
            Checkout {
                commit: commit.to_string(),
                project_dir: dir.clone(),
                dir,
            }
        };
        let (a, b) = (co("aaaa"), co("bbbb"));
        let target = tmp.path().join("target");
        let old = UNIX_EPOCH + Duration::from_secs(1_000_000);
        // A fresh target: the checkout is claimed (made newer than anything built before).
        claim_target(&a, &target).unwrap();
        assert!(mtime(&a.dir.join("src/lib.rs")) > old);
        // The same commit again keeps its files' times: its build stays fresh.
        set_times(&a.dir, old).unwrap();
        claim_target(&a, &target).unwrap();
        assert_eq!(mtime(&a.dir.join("src/lib.rs")), old);
        // Another commit: its files get the present time, so cargo rebuilds them.
        claim_target(&b, &target).unwrap();
        assert!(mtime(&b.dir.join("src/lib.rs")) > old);
        assert_eq!(
            std::fs::read_to_string(target.join(BUILT_MARKER)).unwrap(),
            "bbbb"
        );
    }
}
