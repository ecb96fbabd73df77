//! The baseline commit's source, checked out with git2 beside the build, for building and
//! benchmarking it next to the current code.
//!
//! The commit's tree is written to `<cache>/src-<commit>` (a detached checkout through git2's
//! `checkout_tree` with a target directory) and reused while it is complete: a marker file
//! holding the commit id is written last. Unlike `git worktree add`, this leaves the user's
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
    let dest = cache.join(format!(
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
        std::fs::write(&marker, &id).map_err(|e| Error::io(&marker, e))?;
    }
    Ok(Checkout {
        commit: id,
        project_dir: dest.join(rel),
    })
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
