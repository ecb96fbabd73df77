//! The versions of a baseline file along the first-parent history of a ref, read with git2
//! without a checkout: the time series `perfgate history` analyses.

use std::path::{Path, PathBuf};

use git2::{Commit, Oid, Repository};

use super::git::{open, repo_relative, short_oid};
use super::schema::Snapshot;
use super::store::parse_snapshot;
use crate::error::{Error, Result};

/// One committed version of the baseline file.
#[derive(Debug, Clone)]
pub struct Version {
    /// The commit that wrote this version (full id).
    pub commit: String,
    /// Its commit time, seconds since the Unix epoch.
    pub time: i64,
    /// The first line of its message.
    pub summary: String,
    /// The baseline as that commit stored it.
    pub snapshot: Snapshot,
}

/// What a walk found.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// Every version, oldest first.
    pub versions: Vec<Version>,
    /// Versions that could not be read, each as one line naming `commit:path` and why: an old
    /// commit's broken file should not hide the rest of the history.
    pub skipped: Vec<String>,
    /// The file, relative to the repository's work tree.
    pub path: PathBuf,
}

/// The id of the blob at `rel` in `commit`'s tree, if there is one.
fn blob_at(commit: &Commit<'_>, rel: &Path) -> Option<Oid> {
    let entry = commit.tree().ok()?.get_path(rel).ok()?;
    (entry.kind() == Some(git2::ObjectType::Blob)).then(|| entry.id())
}

/// Every version of `file` (a work-tree path) that a commit on the first-parent chain of `rev`
/// wrote: the commits whose file differs from their first parent's (or that added it), oldest
/// first. With `since` (seconds since the epoch), the walk stops at the first commit older
/// than that. Merged branches' own commits are not visited: on the main branch, a merge is
/// the step that changed the file.
pub fn versions(dir: &Path, rev: &str, file: &Path, since: Option<i64>) -> Result<Versions> {
    let repo = open(dir)?;
    let rel = repo_relative(&repo, file)?;
    let start = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| Error::Git(format!("cannot resolve {rev:?}: {}", e.message())))?;
    let mut out = Versions {
        path: rel.clone(),
        ..Versions::default()
    };
    let mut current = Some(start);
    let mut current_blob = current.as_ref().and_then(|c| blob_at(c, &rel));
    while let Some(commit) = current {
        if since.is_some_and(|s| commit.time().seconds() < s) {
            break;
        }
        let parent = commit.parent(0).ok();
        let parent_blob = parent.as_ref().and_then(|p| blob_at(p, &rel));
        if let Some(id) = current_blob
            && parent_blob != Some(id)
        {
            read_version(&repo, &commit, id, &rel, &mut out);
        }
        current = parent;
        current_blob = parent_blob;
    }
    out.versions.reverse();
    out.skipped.reverse();
    Ok(out)
}

fn read_version(repo: &Repository, commit: &Commit<'_>, blob: Oid, rel: &Path, out: &mut Versions) {
    let label = PathBuf::from(format!("{}:{}", short_oid(commit.id()), rel.display()));
    let parsed = repo
        .find_blob(blob)
        .map_err(|e| Error::invalid(&label, format!("git: {}", e.message())))
        .and_then(|b| parse_snapshot(&label, b.content()));
    match parsed {
        Ok(snapshot) => out.versions.push(Version {
            commit: commit.id().to_string(),
            time: commit.time().seconds(),
            summary: commit.summary().unwrap_or("").to_string(),
            snapshot,
        }),
        Err(e) => out.skipped.push(e.to_string()),
    }
}
