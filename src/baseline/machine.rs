//! The machine fingerprint and the default testbed name derived from it.

use super::schema::Machine;

/// Environment variable naming the testbed, overriding the derived name.
pub const TESTBED_ENV: &str = "PERFGATE_TESTBED";

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        matches!(k.trim(), "model name" | "Model" | "cpu model" | "Hardware")
            .then(|| v.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

fn mem_total_mib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

impl Machine {
    /// The fingerprint of the machine this process runs on.
    pub fn current() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".into()),
            memory_mib: mem_total_mib(&meminfo).unwrap_or(0),
        }
    }

    /// The default testbed name: `<os>-<arch>-<cores>c-<memory GiB>g`, e.g. `linux-x86_64-2c-24g`.
    /// Memory is rounded up: the kernel reports a little less than the machine's nominal size.
    pub fn testbed_name(&self) -> String {
        let gib = (self.memory_mib as f64 / 1024.0).ceil() as u64;
        format!("{}-{}-{}c-{}g", self.os, self.arch, self.cores, gib)
    }

    /// The differences that make timings incomparable: empty when the machines match.
    /// The kernel is compared too: it changes syscall costs, which the flagship suite measures.
    pub fn differences(&self, other: &Machine) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |what: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{what}: baseline {a}, here {b}"));
            }
        };
        cmp("OS", self.os.clone(), other.os.clone());
        cmp("architecture", self.arch.clone(), other.arch.clone());
        cmp("CPU", self.cpu_model.clone(), other.cpu_model.clone());
        cmp("cores", self.cores.to_string(), other.cores.to_string());
        cmp("kernel", self.kernel.clone(), other.kernel.clone());
        // Memory reported by the kernel wobbles by a few MiB between boots of the same machine.
        let (a, b) = (self.memory_mib as f64, other.memory_mib as f64);
        if (a - b).abs() > 0.05 * a.max(b) {
            cmp(
                "memory",
                format!("{} MiB", self.memory_mib),
                format!("{} MiB", other.memory_mib),
            );
        }
        out
    }
}

/// The testbed name in force: an explicit one, else `$PERFGATE_TESTBED`, else the derived one.
pub fn testbed(explicit: Option<&str>, machine: &Machine) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var(TESTBED_ENV).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| machine.testbed_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let cpu = "processor\t: 0\nmodel name\t: AMD EPYC  7B13 64-Core Processor\n";
        assert_eq!(cpu_model(cpu).unwrap(), "AMD EPYC 7B13 64-Core Processor");
        assert_eq!(mem_total_mib("MemTotal:       24576000 kB\n"), Some(24000));
    }

    #[test]
    fn testbed_name_and_differences() {
        let m = Machine {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpu_model: "X".into(),
            cores: 2,
            kernel: "6.1".into(),
            memory_mib: 24_000,
        };
        assert_eq!(m.testbed_name(), "linux-x86_64-2c-24g");
        assert!(m.differences(&m).is_empty());
        let mut other = m.clone();
        other.memory_mib = 24_010;
        assert!(m.differences(&other).is_empty());
        other.cores = 4;
        other.cpu_model = "Y".into();
        assert_eq!(m.differences(&other).len(), 2);
    }
}
