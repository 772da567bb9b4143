//! The seed file format (documented for clerks in `seeds/README.md`), and reading a folder of
//! seed files.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use std::collections::BTreeMap;

use entity::enums::{
    AddresseeKind, AgencyKind, AssignmentRole, Comparator, Direction, DirectiveKind,
    DueRule as StoredDueRule, Measure, RegimePeriod, Reporters,
};
use serde::Deserialize;

use super::SeedError;

// ---------------------------------------------------------------------------------------
// File format (documented for clerks in seeds/README.md)

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgenciesFile {
    pub agencies: Vec<AgencySeed>,
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySeed {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub short_name: Option<String>,
    pub kind: AgencyKind,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Who takes over from `valid_to + 1`; the first takes whatever `split` does not name.
    #[serde(default)]
    pub successors: Vec<String>,
    /// Duties that went to other successors than the first, by task.
    #[serde(default)]
    pub split: Vec<SplitSeed>,
    /// A group whose every member takes each open assignment (a district's work to the
    /// communes and wards of its area).
    #[serde(default)]
    pub successor_group: Option<String>,
}

/// Part of a split: these tasks' open assignments go to these successors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSeed {
    /// `directive-code/task-code`, e.g. `ct-10-2024/II.2-2.1`.
    pub tasks: Vec<String>,
    pub to: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveFile {
    pub directive: DirectiveSeed,
    pub tasks: Vec<TaskSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveSeed {
    pub code: String,
    #[serde(default)]
    pub number: Option<String>,
    pub kind: DirectiveKind,
    pub title: String,
    #[serde(default)]
    pub issued_on: Option<NaiveDate>,
    pub issuer: String,
    #[serde(default)]
    pub signer: Option<String>,
    #[serde(default)]
    pub signer_title: Option<String>,
    /// The reports every holder (or every lead) owes each period, where the document sets
    /// them (`setReportingRegime` does the same through the API).
    #[serde(default)]
    pub reporting_regime: Option<RegimeSeed>,
}

/// A directive's reporting regime, as `SetReportingRegimeInput` gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeSeed {
    pub period_type: RegimePeriod,
    pub due_rule: StoredDueRule,
    pub due_value: u32,
    pub reporters: Reporters,
    pub first_period: String,
    #[serde(default)]
    pub last_period: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSeed {
    pub code: String,
    pub section: String,
    #[serde(default)]
    pub section_title: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub milestones: Vec<MilestoneSeed>,
    #[serde(default)]
    pub requires_report: bool,
    #[serde(default)]
    pub leads: Vec<String>,
    #[serde(default)]
    pub coordinators: Vec<String>,
    /// The document's words for an agency it meant under another name, by agency code.
    #[serde(default)]
    pub written_as: BTreeMap<String, String>,
    /// Names the text addresses that are not agencies holding an assignment.
    #[serde(default)]
    pub addressees: Vec<AddresseeSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddresseeSeed {
    /// As the document writes it.
    pub name: String,
    pub role: AssignmentRole,
    pub kind: AddresseeKind,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneSeed {
    pub label: String,
    #[serde(default)]
    pub deadline: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsFile {
    #[serde(default)]
    pub source_directive: Option<String>,
    pub year: i32,
    pub indicators: Vec<IndicatorSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSeed {
    pub code: String,
    #[serde(default)]
    pub item: Option<String>,
    pub name: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub comparator: Option<Comparator>,
    pub direction: Direction,
    pub measure: Measure,
    #[serde(default)]
    pub qualitative: bool,
    #[serde(default)]
    pub responsible: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source_text: Option<String>,
    #[serde(default)]
    pub children: Vec<IndicatorSeed>,
}

/// Every seed file, parsed.
#[derive(Debug)]
pub struct SeedSet {
    pub agencies: AgenciesFile,
    pub directives: Vec<DirectiveFile>,
    pub indicators: Vec<IndicatorsFile>,
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_norway::from_str(&text).map_err(|source| SeedError::Yaml {
        path: path.to_owned(),
        source,
    })
}

fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, SeedError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SeedError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads an `agencies.yaml` alone (the directive importer's names).
pub fn read_agencies(path: &Path) -> Result<AgenciesFile, SeedError> {
    read_yaml(path)
}

impl SeedSet {
    /// Reads `agencies.yaml`, `directives/*.yaml` and `indicators-*.yaml` from `dir`.
    pub fn read(dir: &Path) -> Result<Self, SeedError> {
        let agencies = read_yaml(&dir.join("agencies.yaml"))?;
        let directives = yaml_files_in(&dir.join("directives"))?
            .iter()
            .map(|p| read_yaml(p))
            .collect::<Result<_, _>>()?;
        let indicators = yaml_files_in(dir)?
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("indicators"))
            })
            .map(|p| read_yaml(p))
            .collect::<Result<_, _>>()?;
        Ok(SeedSet {
            agencies,
            directives,
            indicators,
        })
    }
}
