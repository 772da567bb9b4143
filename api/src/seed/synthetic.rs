//! A deterministic, large synthetic dataset in chidao's own schema, for benchmarks
//! (`chidao seed --synthetic [--scale N]`).
//!
//! At scale 1: 300 agencies (DEPARTMENT, DISTRICT, COMMUNE), 200 directives, 20,000 tasks with
//! 60,000 assignments (one lead and two coordinators per task on average), 500 indicators with 12
//! monthly values each, and 200,000 progress reports. Every code starts with `syn-`, so the rows sit
//! beside the real seed without touching it; agency `syn-0001` marks a database that already holds
//! them, and a second load is refused.
//!
//! The data comes from a small seeded PRNG (SplitMix64, written here so that no dependency upgrade
//! can change it): two loads write identical rows, ids aside. Deadlines are Vietnamese phrases read by
//! [`parse_deadline`], and the search columns are filled with [`SearchKeys`], exactly as the real seed does.
//! Rows go in as multi-row `INSERT`s inside one transaction; PostgreSQL then gets `VACUUM (ANALYZE)`:
//! planner statistics, and a visibility map so index-only scans skip the heap, as autovacuum
//! would leave a live database (without it every count by directive visits each task's heap page).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use entity::enums::{
    AgencyKind, AssignmentRole, Comparator, Direction, DirectiveKind, Measure, ReportState, ValueKind,
};
use entity::{agency, assignment, audit_log, directive, indicator, indicator_value, progress_report, task};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use crate::domain::deadline::{Deadline, parse_deadline};
use crate::domain::number::format_vn_decimal;
use crate::domain::period::{PeriodId, PeriodType};
use crate::domain::text::SearchKeys;

/// The prefix of every synthetic code.
pub const PREFIX: &str = "syn-";
/// The agency whose presence marks a database that already holds synthetic data.
pub const MARKER_AGENCY: &str = "syn-0001";

/// How many rows to generate. Assignments follow from the tasks (one lead and, on average, two
/// coordinators each, fewer only when there are not enough agencies), and every indicator gets
/// twelve monthly values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub agencies: u32,
    pub directives: u32,
    pub tasks: u32,
    pub indicators: u32,
    pub reports: u32,
}

impl Scale {
    /// Scale 1: the default sizes.
    pub const DEFAULT: Scale = Scale {
        agencies: 300,
        directives: 200,
        tasks: 20_000,
        indicators: 500,
        reports: 200_000,
    };

    /// The default sizes multiplied by `factor` (rounded; at least 5 agencies and one of everything
    /// else), so `times(10.0)` is ten times the data and `times(0.01)` a quick test.
    ///
    /// Agencies do not grow past the default 300: a province's data grows by years of
    /// directives, tasks and reports, while its departments and communes stay (after the 2025
    /// merger, fewer). Ten times the data is ten times the tasks per agency, which is what
    /// "cost does not grow with the data" has to survive; a smaller scale shrinks everything.
    pub fn times(factor: f64) -> Scale {
        let f = |n: u32, min: u32| -> u32 {
            let v = (f64::from(n) * factor.max(0.0)).round();
            if v >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                (v as u32).max(min)
            }
        };
        let d = Scale::DEFAULT;
        Scale {
            agencies: f(d.agencies, 5).min(d.agencies),
            directives: f(d.directives, 1),
            tasks: f(d.tasks, 1),
            indicators: f(d.indicators, 1),
            reports: f(d.reports, 1),
        }
    }
}

impl Scale {
    /// At least one agency: every task and indicator needs one.
    fn normalized(self) -> Scale {
        Scale {
            agencies: self.agencies.max(1),
            ..self
        }
    }
}

impl Default for Scale {
    fn default() -> Self {
        Scale::DEFAULT
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    #[error(
        "the database already holds synthetic data ({0}); nothing was written. \
         Load into a fresh database, or drop and recreate this one."
    )]
    AlreadyLoaded(String),
    #[error("generated deadline «{phrase}» does not parse: {message}")]
    Deadline { phrase: String, message: String },
    #[error("inserted {table} could not be read back: {key}")]
    Missing { table: &'static str, key: String },
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// What a synthetic load wrote, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticReport {
    pub scale: Scale,
    /// Rows inserted per table, in load order, with the time from the end of the previous
    /// table (reading ids back included).
    pub counts: Vec<(&'static str, u64, Duration)>,
    /// Generating and inserting, commit included.
    pub load: Duration,
    /// `VACUUM (ANALYZE)` (PostgreSQL only).
    pub analyze: Option<Duration>,
}

impl SyntheticReport {
    /// Rows inserted into `table` (0 when none).
    pub fn count(&self, table: &str) -> u64 {
        self.counts
            .iter()
            .find(|(t, _, _)| *t == table)
            .map(|(_, n, _)| *n)
            .unwrap_or(0)
    }
}

impl std::fmt::Display for SyntheticReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "synthetic data loaded:")?;
        for (table, n, took) in &self.counts {
            writeln!(f, "  {table:<17} {n:>9}  {:>6.1} s", took.as_secs_f64())?;
        }
        write!(f, "in {:.1} s", self.load.as_secs_f64())?;
        if let Some(a) = self.analyze {
            write!(f, " (+ VACUUM ANALYZE {:.1} s)", a.as_secs_f64())?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The generator

/// SplitMix64: tiny, fast, and fixed forever (unlike a library's "standard" generator).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n` > 0; 0 gives 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // The modulo bias is below 2^-40 for every n used here.
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next_u64() % span) as i64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index in `0..n` skewed towards the front (a few agencies carry most of the work).
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// SplitMix64's finaliser, also used to hash (stream, index) pairs into independent draws.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw that depends only on its inputs, so two phases can agree on it without sharing a stream.
fn hash(a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(a ^ 0x5EED) ^ b) ^ c)
}

/// Splits `total` into `parts` integers proportional to random weights in `[lo, hi)`; the sum is
/// exactly `total`.
fn spread(rng: &mut Rng, total: u64, parts: usize, lo: f64, hi: f64) -> Vec<u64> {
    if parts == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (0..parts).map(|_| lo + (hi - lo) * rng.unit()).collect();
    let sum: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(parts);
    let mut acc = 0.0;
    let mut given = 0u64;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        let upto = if i + 1 == parts {
            total
        } else {
            ((acc / sum) * total as f64).round().min(total as f64) as u64
        };
        let upto = upto.max(given);
        out.push(upto - given);
        given = upto;
    }
    out
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs())).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(d)
    }
}

/// `d` at `minutes` past midnight UTC (01:00–09:59 UTC is 08:00–16:59 in Vietnam, the same day).
fn at(d: NaiveDate, minutes: u32) -> DateTime<Utc> {
    let t =
        NaiveTime::from_num_seconds_from_midnight_opt(minutes.min(1439) * 60, 0).unwrap_or(NaiveTime::MIN);
    Utc.from_utc_datetime(&d.and_time(t))
}

/// `n` in roman numerals (section numbers and quarters).
fn roman(n: u32) -> String {
    const R: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n.max(1);
    let mut out = String::new();
    for (v, s) in R {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

// Vocabulary: the words of real directives, with their diacritics.

#[rustfmt::skip]
const DEPARTMENTS: &[&str] = &[
    "Sở Tài chính", "Sở Xây dựng", "Sở Nông nghiệp và Môi trường", "Sở Khoa học và Công nghệ",
    "Sở Nội vụ", "Sở Tư pháp", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Công Thương", "Sở Dân tộc và Tôn giáo", "Sở Ngoại vụ", "Thanh tra tỉnh",
    "Ban Quản lý Khu kinh tế", "Ban Quản lý dự án đầu tư xây dựng",
];

#[rustfmt::skip]
const SYLLABLES: &[&str] = &[
    "Bảo", "Thắng", "Mường", "Khương", "Bắc", "Hà", "Sa", "Pa", "Văn", "Bàn", "Yên", "Lục", "Nghĩa",
    "Đô", "Trấn", "Phong", "Hải", "Tả", "Phìn", "Lùng", "Cốc", "Thượng", "Xuân", "Quang", "Tân", "Phú",
    "Hòa", "Bình", "Minh", "Sơn", "Lâm", "Đồng", "Tuyên", "Ngọc", "Kim", "Long", "Trung", "Nậm", "Chải",
    "Hồng", "Vĩnh", "Cam", "Đường", "Gia", "Phúc", "Thịnh", "Khánh", "Lương",
];

#[rustfmt::skip]
const VERBS: &[&str] = &[
    "Triển khai", "Tổ chức thực hiện", "Xây dựng", "Rà soát, đánh giá", "Hoàn thiện", "Đẩy mạnh",
    "Tăng cường", "Kiểm tra, giám sát", "Tham mưu ban hành", "Đôn đốc thực hiện", "Nâng cao chất lượng",
    "Chỉ đạo thực hiện", "Tổng kết", "Sửa đổi, bổ sung", "Thẩm định", "Đề xuất",
];

#[rustfmt::skip]
const OBJECTS: &[&str] = &[
    "kế hoạch", "đề án", "phương án", "chương trình", "quy hoạch", "cơ chế, chính sách",
    "dự án đầu tư công", "hồ sơ thủ tục hành chính", "công tác giải phóng mặt bằng", "mô hình điểm",
    "báo cáo chuyên đề", "quy chế phối hợp", "giải pháp", "nhiệm vụ trọng tâm",
];

#[rustfmt::skip]
const FIELDS: &[&str] = &[
    "phát triển du lịch cộng đồng", "chuyển đổi số", "xây dựng nông thôn mới", "giảm nghèo bền vững",
    "cải cách hành chính", "phòng, chống thiên tai", "bảo vệ và phát triển rừng",
    "thu ngân sách nhà nước", "giải ngân vốn đầu tư công", "phát triển hạ tầng giao thông",
    "y tế cơ sở", "giáo dục và đào tạo", "an toàn thực phẩm", "bảo tồn văn hóa các dân tộc",
    "thu hút đầu tư", "phát triển doanh nghiệp", "quản lý đất đai", "bảo vệ môi trường",
    "an sinh xã hội", "quốc phòng, an ninh", "khoa học và công nghệ", "nước sạch nông thôn",
    "phòng cháy, chữa cháy", "kinh tế cửa khẩu", "sắp xếp đơn vị hành chính",
    "phát triển nông nghiệp hàng hóa",
];

#[rustfmt::skip]
const QUALIFIERS: &[&str] = &[
    "năm 2025", "giai đoạn 2025 - 2030", "trên địa bàn tỉnh", "tại các xã vùng cao", "ở cấp xã",
    "theo Nghị quyết của Tỉnh ủy", "đợt cao điểm", "",
];

#[rustfmt::skip]
const REPORT_ENDINGS: &[&str] = &[
    "báo cáo UBND tỉnh", "tổng hợp, báo cáo Chủ tịch UBND tỉnh",
    "báo cáo kết quả về Văn phòng UBND tỉnh", "trình UBND tỉnh xem xét",
];

#[rustfmt::skip]
const SIGNERS: &[(&str, &str)] = &[
    ("Trịnh Xuân Trường", "Chủ tịch"), ("Nguyễn Thành Sinh", "Phó Chủ tịch"),
    ("Giàng A Tông", "Phó Chủ tịch"), ("Hoàng Quốc Khánh", "Phó Chủ tịch"),
    ("Nguyễn Trọng Hài", "Phó Chủ tịch"),
];

#[rustfmt::skip]
const SUMMARIES: &[&str] = &[
    "Đã ban hành kế hoạch triển khai", "Đang tổ chức thực hiện theo tiến độ",
    "Đã hoàn thành khảo sát, đánh giá thực trạng", "Đã tổ chức hội nghị quán triệt",
    "Đang hoàn thiện dự thảo, lấy ý kiến các cơ quan liên quan", "Đã phối hợp kiểm tra tại cơ sở",
    "Đã tổng hợp số liệu, gửi cơ quan chủ trì", "Đang thẩm định hồ sơ",
];

#[rustfmt::skip]
const OBSTACLES: &[&str] = &[
    "Thiếu kinh phí thực hiện", "Thời tiết mưa lũ kéo dài ảnh hưởng tiến độ",
    "Nhân lực chuyên môn còn hạn chế", "Vướng mắc trong giải phóng mặt bằng",
];

#[rustfmt::skip]
const PROPOSALS: &[&str] = &[
    "Đề nghị UBND tỉnh bổ sung kinh phí", "Đề nghị gia hạn thời gian thực hiện",
    "Đề nghị các sở, ngành phối hợp cung cấp số liệu",
];

/// Indicator templates: name, unit, measure, direction, comparator, target range in units of
/// 10^-decimals, decimals.
type IndicatorTemplate = (
    &'static str,
    &'static str,
    Measure,
    Direction,
    Comparator,
    (i64, i64),
    u32,
);

#[rustfmt::skip]
const INDICATORS: &[IndicatorTemplate] = {
    use Comparator::*;
    use Direction::*;
    use Measure::*;
    &[
        ("Tổng thu ngân sách nhà nước trên địa bàn", "tỷ đồng", Cumulative, Increase, Ge, (1_000, 20_000), 0),
        ("Tốc độ tăng trưởng kinh tế (GRDP)", "%", Level, Increase, Ge, (50, 120), 1),
        ("Tỷ lệ hộ nghèo", "%", Level, Decrease, Le, (200, 1_500), 2),
        ("Số khách du lịch", "lượt khách", Cumulative, Increase, Ge, (100_000, 8_000_000), 0),
        ("Tỷ lệ xã đạt chuẩn nông thôn mới", "%", Level, Increase, Ge, (400, 900), 1),
        ("Tổng vốn đầu tư toàn xã hội", "tỷ đồng", Cumulative, Increase, Ge, (5_000, 60_000), 0),
        ("Tỷ lệ che phủ rừng", "%", Level, Increase, Ge, (550, 650), 1),
        ("Số doanh nghiệp thành lập mới", "doanh nghiệp", Cumulative, Increase, Ge, (200, 1_500), 0),
        ("Tỷ lệ dân số tham gia bảo hiểm y tế", "%", Level, Increase, Ge, (900, 990), 1),
        ("Tỷ lệ lao động qua đào tạo", "%", Level, Increase, Ge, (600, 800), 1),
        ("Tỷ lệ thất nghiệp khu vực thành thị", "%", Level, Decrease, Lt, (200, 500), 2),
        ("Tỷ trọng nông nghiệp trong GRDP", "%", Level, Neutral, Eq, (100, 200), 1),
        ("Kim ngạch xuất nhập khẩu qua cửa khẩu", "triệu USD", Cumulative, Increase, Gt, (500, 6_000), 0),
        ("Số giường bệnh trên 1 vạn dân", "giường", Level, Increase, Ge, (300, 400), 1),
    ]
};

fn place(rng: &mut Rng) -> String {
    let a = rng.pick(SYLLABLES);
    let mut b = rng.pick(SYLLABLES);
    while b == a {
        b = rng.pick(SYLLABLES);
    }
    format!("{a} {b}")
}

/// Rows per `INSERT`: under SQLite's 32,766 bound parameters (PostgreSQL allows 65,535).
fn batch_rows(columns: usize) -> usize {
    (30_000 / columns.max(1)).clamp(1, 2_000)
}

/// Inserts `rows` in batches of `per` rows.
async fn insert_batches<A, C>(txn: &C, rows: Vec<A>, per: usize) -> Result<u64, sea_orm::DbErr>
where
    A: ActiveModelTrait,
    C: ConnectionTrait,
{
    let mut n = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        n += A::Entity::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(n)
}

struct AgencyPlan {
    code: String,
    name: String,
    kind: AgencyKind,
    /// Index of the parent district (communes).
    parent: Option<usize>,
}

struct TaskPlan {
    directive: usize,
    code: String,
    deadline: Deadline,
    completed_on: Option<NaiveDate>,
}

struct AssignmentPlan {
    task: usize,
    agency: usize,
    role: AssignmentRole,
    /// Reports on it, oldest first: one per period.
    reports: u32,
    monthly: bool,
    /// Periods skipped before the first report (so the reports end at different times).
    start: u32,
    /// Whether its last report is the lead's accepted "done" (it completes the task).
    completes: bool,
}

impl AssignmentPlan {
    /// The period type of its reports: quarters of 2025 for up to four quarterly reports, else
    /// months.
    fn period_type(&self) -> PeriodType {
        if self.monthly || self.reports > 4 {
            PeriodType::Month
        } else {
            PeriodType::Quarter
        }
    }

    /// The report periods: consecutive, from the `start`-th period of 2025 (then into 2026 only
    /// when there are more than twelve monthly reports).
    fn periods(&self) -> Vec<PeriodId> {
        let Ok(mut p) = PeriodId::new(2025, self.period_type(), 1) else {
            return Vec::new();
        };
        for _ in 0..self.start {
            p = p.next();
        }
        let mut out = Vec::with_capacity(self.reports as usize);
        for _ in 0..self.reports {
            out.push(p);
            p = p.next();
        }
        out
    }
}

/// When report `j` of assignment `a` on period `p` was submitted: up to ten days before the
/// Government's due date of the period (the 25th of its last month), in office hours.
fn submitted_at(a: usize, j: usize, p: &PeriodId) -> DateTime<Utc> {
    let h = hash(1, a as u64, j as u64);
    let day = add_days(p.report_due_on(), -((h % 11) as i64));
    at(day, 60 + ((h >> 8) % 540) as u32)
}

fn deadline_phrase(rng: &mut Rng, earliest: NaiveDate, latest: NaiveDate) -> Option<String> {
    let span = (latest - earliest).num_days().max(0);
    let target = add_days(earliest, rng.range(0, span));
    let (y, m, d) = (target.year(), target.month(), target.day());
    let r = rng.unit();
    if r < 0.30 {
        Some(format!("trước ngày {d:02}/{m:02}/{y}"))
    } else if r < 0.36 {
        Some(format!("chậm nhất ngày {d}/{m}/{y}"))
    } else if r < 0.56 {
        Some(format!("trong tháng {m:02}/{y}"))
    } else if r < 0.71 {
        Some(format!("trong Quý {}/{y}", roman((m - 1) / 3 + 1)))
    } else if r < 0.76 {
        let half = if m <= 6 { "đầu" } else { "cuối" };
        Some(format!("trong 6 tháng {half} năm {y}"))
    } else if r < 0.85 {
        Some(format!("trong năm {y}"))
    } else if r < 0.93 {
        Some((*rng.pick(&["hàng tháng", "từng quý", "định kỳ 6 tháng", "hàng năm"])).to_owned())
    } else if r < 0.96 {
        Some("thường xuyên".to_owned())
    } else {
        None
    }
}

struct Plan {
    agencies: Vec<AgencyPlan>,
    directives: Vec<directive::ActiveModel>,
    directive_codes: Vec<String>,
    /// When each directive was issued (its tasks and assignments are created then).
    issued: Vec<NaiveDate>,
    /// Tasks per directive, in document order.
    tasks: Vec<TaskPlan>,
    assignments: Vec<AssignmentPlan>,
}

/// Draws everything whose ids other rows need, and every decision that spans tables (who leads,
/// how many reports, which tasks are complete). Text is drawn later, while inserting.
fn plan(scale: Scale, taken_numbers: &HashSet<String>) -> Result<Plan, SyntheticError> {
    let scale = scale.normalized();
    let mut rng = Rng::new(0x00C4_1DA0_2025);

    // Agencies: departments first (so the marker is one), then districts, then communes.
    let n = scale.agencies as usize;
    let n_dept = (n * 12 / 100).max(1).min(n);
    let n_dist = (n * 8 / 100).max(1).min(n - n_dept);
    let mut agencies = Vec::with_capacity(n);
    for i in 0..n {
        let code = format!("{PREFIX}{:04}", i + 1);
        let (kind, name, parent) = if i < n_dept {
            let base_name = DEPARTMENTS[i % DEPARTMENTS.len()];
            let name = if i < DEPARTMENTS.len() {
                base_name.to_owned()
            } else {
                format!("{base_name} khu vực {}", place(&mut rng))
            };
            (AgencyKind::Department, name, None)
        } else if i < n_dept + n_dist {
            let name = format!("UBND huyện {}", place(&mut rng));
            (AgencyKind::District, name, None)
        } else {
            let name = format!("UBND xã {}", place(&mut rng));
            let parent = (n_dist > 0).then(|| n_dept + rng.below(n_dist));
            (AgencyKind::Commune, name, parent)
        };
        agencies.push(AgencyPlan {
            code,
            name,
            kind,
            parent,
        });
    }
    let departments: Vec<usize> = (0..n_dept).collect();
    let districts: Vec<usize> = (n_dept..n_dept + n_dist).collect();
    let communes: Vec<usize> = (n_dept + n_dist..n).collect();
    let pick_agency = |rng: &mut Rng, dept: f64, dist: f64| -> usize {
        let r = rng.unit();
        let pool = if r < dept || (districts.is_empty() && communes.is_empty()) {
            &departments
        } else if (r < dept + dist && !districts.is_empty()) || communes.is_empty() {
            &districts
        } else {
            &communes
        };
        pool[rng.skewed(pool.len())]
    };

    // Directives, with unique numbers that avoid any already in the database.
    let mut directives = Vec::with_capacity(scale.directives as usize);
    let mut directive_codes = Vec::with_capacity(scale.directives as usize);
    let mut issued = Vec::with_capacity(scale.directives as usize);
    let mut next_number = 100u32;
    let first_day = date(2023, 10, 1);
    for i in 0..scale.directives as usize {
        let (kind, symbol, kind_title) = match rng.unit() {
            r if r < 0.25 => (DirectiveKind::ChiThi, "CT-UBND", "Chỉ thị"),
            r if r < 0.70 => (DirectiveKind::KeHoach, "KH-UBND", "Kế hoạch"),
            r if r < 0.90 => (DirectiveKind::CongVan, "UBND-TH", "Công văn"),
            _ => (DirectiveKind::QuyetDinh, "QĐ-UBND", "Quyết định"),
        };
        let number = loop {
            let candidate = format!("{next_number}/{symbol}");
            next_number += 1 + rng.below(3) as u32;
            if !taken_numbers.contains(&candidate) {
                break candidate;
            }
        };
        let issued_on = add_days(first_day, rng.range(0, 730));
        let title = match kind {
            DirectiveKind::ChiThi => format!(
                "Về việc tăng cường {} và {} {}",
                rng.pick(FIELDS),
                rng.pick(FIELDS),
                rng.pick(QUALIFIERS)
            ),
            DirectiveKind::KeHoach => format!(
                "{kind_title} triển khai thực hiện {} {} {}",
                rng.pick(OBJECTS),
                rng.pick(FIELDS),
                rng.pick(QUALIFIERS)
            ),
            DirectiveKind::CongVan => {
                format!(
                    "Về việc đôn đốc thực hiện {} {}",
                    rng.pick(FIELDS),
                    rng.pick(QUALIFIERS)
                )
            }
            _ => format!(
                "Ban hành {} {} {}",
                rng.pick(OBJECTS),
                rng.pick(FIELDS),
                rng.pick(QUALIFIERS)
            ),
        };
        let title = title.trim_end().to_owned();
        let (signer, signer_title) = *rng.pick(SIGNERS);
        let issuer = "UBND tỉnh Lào Cai".to_owned();
        let SearchKeys {
            title: search_title,
            text: search_text,
        } = SearchKeys::directive(Some(&number), &title, &issuer);
        let created = at(issued_on, 120);
        let code = format!("{PREFIX}{:04}", i + 1);
        directive_codes.push(code.clone());
        directives.push(directive::ActiveModel {
            code: Set(code),
            number: Set(Some(number)),
            kind: Set(kind),
            title: Set(title),
            issued_on: Set(Some(issued_on)),
            issuer: Set(issuer),
            signer: Set(Some(signer.to_owned())),
            signer_title: Set(Some(signer_title.to_owned())),
            search_title: Set(search_title),
            search_text: Set(search_text),
            created_at: Set(created),
            updated_at: Set(created),
            ..Default::default()
        });
        issued.push(issued_on);
    }

    // Tasks: spread unevenly over the directives, sections in document order.
    let per_directive = spread(&mut rng, u64::from(scale.tasks), directives.len(), 0.3, 1.7);
    let mut tasks = Vec::with_capacity(scale.tasks as usize);
    let last_day = date(2026, 12, 31);
    for (d, &count) in per_directive.iter().enumerate() {
        let sections = (count / 8 + 1) as usize;
        let mut in_section = vec![0u32; sections];
        for j in 0..count as usize {
            let s = j * sections / (count as usize).max(1);
            in_section[s] += 1;
            let section = format!("{}.{}", roman(2 + (s / 6) as u32), s % 6 + 1);
            let code = format!("{section}-{}", in_section[s]);
            let earliest = add_days(issued[d], 20).max(date(2024, 1, 2));
            let phrase = deadline_phrase(&mut rng, earliest, last_day);
            let deadline = parse_deadline(phrase.as_deref()).map_err(|e| SyntheticError::Deadline {
                phrase: phrase.clone().unwrap_or_default(),
                message: e.to_string(),
            })?;
            tasks.push(TaskPlan {
                directive: d,
                code,
                deadline,
                completed_on: None,
            });
        }
    }

    // Assignments: one lead and 0–4 coordinators, pairs of tasks summing to four, so two per task
    // on average; then the reports spread over them.
    let mut assignments = Vec::with_capacity(tasks.len() * 3);
    let mut previous = 2usize;
    for (t, _) in tasks.iter().enumerate() {
        let want = if t % 2 == 0 {
            if t + 1 == tasks.len() { 2 } else { rng.below(5) }
        } else {
            4 - previous
        };
        previous = want;
        let lead = pick_agency(&mut rng, 0.65, 0.20);
        let mut chosen = vec![lead];
        let coordinators = want.min(n.saturating_sub(1));
        let mut tries = 0;
        while chosen.len() < coordinators + 1 {
            let a = if tries < 20 {
                pick_agency(&mut rng, 0.5, 0.2)
            } else {
                // Dense fallback: the next agency not yet chosen.
                (0..n).find(|a| !chosen.contains(a)).unwrap_or(lead)
            };
            tries += 1;
            if !chosen.contains(&a) {
                chosen.push(a);
            }
        }
        for (k, a) in chosen.into_iter().enumerate() {
            assignments.push(AssignmentPlan {
                task: t,
                agency: a,
                role: if k == 0 {
                    AssignmentRole::Lead
                } else {
                    AssignmentRole::Coordinator
                },
                reports: 0,
                monthly: false,
                start: 0,
                completes: false,
            });
        }
    }
    let per_assignment = spread(&mut rng, u64::from(scale.reports), assignments.len(), 0.2, 1.8);
    for (a, k) in assignments.iter_mut().zip(per_assignment) {
        a.reports = u32::try_from(k).unwrap_or(u32::MAX);
        a.monthly = rng.chance(0.3);
        let room = a.period_type().per_year().saturating_sub(a.reports);
        a.start = rng.below(room as usize + 1) as u32;
    }

    // Completion: more likely the earlier the task was due. A lead completes on the day it
    // submitted its last report, which is then its accepted "done" report.
    for (i, a) in assignments.iter_mut().enumerate() {
        if a.role != AssignmentRole::Lead || a.reports == 0 {
            continue;
        }
        let t = &mut tasks[a.task];
        let p = match t.deadline.due_on.map(|d| d.year()) {
            Some(y) if y <= 2024 => 0.6,
            Some(2025) => 0.4,
            Some(_) => 0.12,
            None => 0.1,
        };
        if rng.chance(p) {
            let periods = a.periods();
            if let Some(last) = periods.last() {
                let j = periods.len() - 1;
                a.completes = true;
                t.completed_on = Some(submitted_at(i, j, last).date_naive());
            }
        }
    }

    Ok(Plan {
        agencies,
        directives,
        directive_codes,
        issued,
        tasks,
        assignments,
    })
}

// ---------------------------------------------------------------------------------------
// Loading

/// Synthetic rows already in the database: agencies, directives and indicators whose code
/// starts with `syn-`.
pub async fn existing(db: &impl ConnectionTrait) -> Result<Option<String>, sea_orm::DbErr> {
    let pattern = format!("{PREFIX}%");
    let agencies = agency::Entity::find()
        .filter(agency::Column::Code.like(&pattern))
        .count(db)
        .await?;
    let directives = directive::Entity::find()
        .filter(directive::Column::Code.like(&pattern))
        .count(db)
        .await?;
    let indicators = indicator::Entity::find()
        .filter(indicator::Column::Code.like(&pattern))
        .count(db)
        .await?;
    if agencies + directives + indicators == 0 {
        return Ok(None);
    }
    let marker = agency::Entity::find()
        .filter(agency::Column::Code.eq(MARKER_AGENCY))
        .count(db)
        .await?;
    Ok(Some(format!(
        "{}{agencies} agencies, {directives} directives (with their tasks, assignments and reports) \
         and {indicators} indicators have codes starting with '{PREFIX}'",
        if marker > 0 {
            format!("agency {MARKER_AGENCY} exists; ")
        } else {
            String::new()
        }
    )))
}

/// Generates the dataset for `scale` and inserts it in one transaction, next to whatever the
/// database holds (the real seed or nothing). Refuses, writing nothing, when synthetic rows
/// are already there. Runs `VACUUM (ANALYZE)` on PostgreSQL afterwards (outside the
/// transaction: VACUUM cannot run inside one).
pub async fn load(db: &DatabaseConnection, scale: Scale) -> Result<SyntheticReport, SyntheticError> {
    let scale = scale.normalized();
    let started = Instant::now();
    let txn = db.begin().await?;
    if let Some(found) = existing(&txn).await? {
        return Err(SyntheticError::AlreadyLoaded(found));
    }
    let taken: HashSet<String> = directive::Entity::find()
        .select_only()
        .column(directive::Column::Number)
        .into_tuple::<Option<String>>()
        .all(&txn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let plan = plan(scale, &taken)?;
    let mut counts: Vec<(&'static str, u64, Duration)> = Vec::new();
    let mut lap = Instant::now();
    let mut record = |table: &'static str, n: u64| {
        counts.push((table, n, lap.elapsed()));
        lap = Instant::now();
    };
    let mut text = Rng::new(0x007E_570F_2025);
    let created = at(date(2025, 1, 1), 60);

    // Agencies: those without a parent, then the communes under their districts.
    let agency_row = |a: &AgencyPlan, parent_id: Option<i32>| agency::ActiveModel {
        code: Set(a.code.clone()),
        name: Set(a.name.clone()),
        short_name: Set(None),
        kind: Set(a.kind),
        parent_id: Set(parent_id),
        valid_from: Set(None),
        valid_to: Set(None),
        // As the seed keys them: name and short name (none here).
        search_text: Set(SearchKeys::agency(&a.name, None)),
        created_at: Set(created),
        updated_at: Set(created),
        ..Default::default()
    };
    let per = batch_rows(11);
    let mut n = insert_batches(
        &txn,
        plan.agencies
            .iter()
            .filter(|a| a.parent.is_none())
            .map(|a| agency_row(a, None))
            .collect(),
        per,
    )
    .await?;
    let ids = code_ids(
        agency::Entity::find()
            .select_only()
            .columns([agency::Column::Code, agency::Column::Id])
            .filter(agency::Column::Code.like(format!("{PREFIX}%")))
            .into_tuple::<(String, i32)>()
            .all(&txn)
            .await?,
    );
    let mut children = Vec::new();
    for a in plan.agencies.iter().filter(|a| a.parent.is_some()) {
        let parent = a.parent.map(|p| &plan.agencies[p].code);
        let parent_id = match parent {
            Some(code) => Some(lookup(&ids, code, "agencies")?),
            None => None,
        };
        children.push(agency_row(a, parent_id));
    }
    n += insert_batches(&txn, children, per).await?;
    record("agencies", n);
    let ids = code_ids(
        agency::Entity::find()
            .select_only()
            .columns([agency::Column::Code, agency::Column::Id])
            .filter(agency::Column::Code.like(format!("{PREFIX}%")))
            .into_tuple::<(String, i32)>()
            .all(&txn)
            .await?,
    );
    let agency_ids: Vec<i32> = plan
        .agencies
        .iter()
        .map(|a| lookup(&ids, &a.code, "agencies"))
        .collect::<Result<_, _>>()?;

    // Directives.
    let n = insert_batches(&txn, plan.directives, batch_rows(13)).await?;
    record("directives", n);
    let ids = code_ids(
        directive::Entity::find()
            .select_only()
            .columns([directive::Column::Code, directive::Column::Id])
            .filter(directive::Column::Code.like(format!("{PREFIX}%")))
            .into_tuple::<(String, i32)>()
            .all(&txn)
            .await?,
    );
    // Each directive's reporting regime: every holder reports each quarter of 2025 by the 25th of
    // the quarter's last month (the Government's due date, Decree 09), as the synthetic reports do.
    let now = Utc::now();
    let regimes: Vec<entity::reporting_regime::ActiveModel> = ids
        .values()
        .map(|&id| entity::reporting_regime::ActiveModel {
            directive_id: Set(id),
            period_type: Set(entity::enums::RegimePeriod::Quarter),
            due_rule: Set(entity::enums::DueRule::DayOfLastMonth),
            due_value: Set(25),
            reporters: Set(entity::enums::Reporters::AllHolders),
            first_period: Set("2025Q1".to_owned()),
            last_period: Set(Some("2025Q4".to_owned())),
            set_by: Set("syn-admin".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    let n = insert_batches(&txn, regimes, batch_rows(11)).await?;
    record("reporting_regimes", n);
    let directive_ids: Vec<i32> = plan
        .directive_codes
        .iter()
        .map(|c| lookup(&ids, c, "directives"))
        .collect::<Result<_, _>>()?;

    // Tasks, their text drawn as they go in.
    let per = batch_rows(20);
    let mut n = 0;
    let mut batch = Vec::with_capacity(per);
    let mut ordinal = 0i32;
    let mut last_directive = usize::MAX;
    for t in &plan.tasks {
        if t.directive != last_directive {
            ordinal = 0;
            last_directive = t.directive;
        }
        let field = *text.pick(FIELDS);
        let title = format!(
            "{} {} {} {}",
            text.pick(VERBS),
            text.pick(OBJECTS),
            field,
            text.pick(QUALIFIERS)
        )
        .trim_end()
        .to_owned();
        let deadline_text = t.deadline.text.clone();
        let full_text = format!(
            "{title}; {} các giải pháp {} {}, bảo đảm hiệu quả, đúng quy định; {}{}.",
            text.pick(VERBS).to_lowercase(),
            text.pick(FIELDS),
            text.pick(QUALIFIERS),
            text.pick(REPORT_ENDINGS),
            deadline_text
                .as_deref()
                .map(|d| format!(" {d}"))
                .unwrap_or_default()
        );
        let section = t.code.split('-').next().unwrap_or("II.1").to_owned();
        let section_title = format!("Về {field}");
        let item = text.chance(0.2).then(|| format!("({})", text.range(1, 9)));
        let SearchKeys {
            title: search_title,
            text: search_text,
        } = SearchKeys::task(&t.code, &title, &full_text);
        let at_created = at(plan.issued[t.directive], 120);
        batch.push(task::ActiveModel {
            directive_id: Set(directive_ids[t.directive]),
            code: Set(t.code.clone()),
            section: Set(section),
            section_title: Set(Some(section_title)),
            item: Set(item),
            ordinal: Set(ordinal),
            title: Set(title),
            full_text: Set(full_text),
            deadline_text: Set(deadline_text),
            deadline_kind: Set(t.deadline.kind.into()),
            recurrence: Set(t.deadline.recurrence.map(crate::tasks::stored::recurrence)),
            original_due_on: Set(t.deadline.due_on),
            due_on: Set(t.deadline.due_on),
            completed_on: Set(t.completed_on),
            requires_report: Set(text.chance(0.7)),
            search_title: Set(search_title),
            search_text: Set(search_text),
            created_at: Set(at_created),
            updated_at: Set(t.completed_on.map(|d| at(d, 600)).unwrap_or(at_created)),
            ..Default::default()
        });
        ordinal += 1;
        if batch.len() == per {
            n += task::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&txn)
                .await?;
        }
    }
    n += task::Entity::insert_many(batch)
        .exec_without_returning(&txn)
        .await?;
    record("tasks", n);
    let synthetic_directives = Query::select()
        .column(directive::Column::Id)
        .from(directive::Entity)
        .and_where(directive::Column::Code.like(format!("{PREFIX}%")))
        .to_owned();
    let task_rows: HashMap<(i32, String), i32> = task::Entity::find()
        .select_only()
        .columns([task::Column::DirectiveId, task::Column::Code, task::Column::Id])
        .filter(task::Column::DirectiveId.in_subquery(synthetic_directives.clone()))
        .into_tuple::<(i32, String, i32)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(d, c, id)| ((d, c), id))
        .collect();
    let task_ids: Vec<i32> = plan
        .tasks
        .iter()
        .map(|t| {
            task_rows
                .get(&(directive_ids[t.directive], t.code.clone()))
                .copied()
                .ok_or_else(|| SyntheticError::Missing {
                    table: "tasks",
                    key: t.code.clone(),
                })
        })
        .collect::<Result<_, _>>()?;
    drop(task_rows);

    // Assignments.
    // Built a batch at a time (no lazy iterator is held across an await, so the future is Send).
    let per = batch_rows(10);
    let mut n = 0;
    for chunk in plan.assignments.chunks(per) {
        let rows: Vec<assignment::ActiveModel> = chunk
            .iter()
            .map(|a| assignment_row((&plan.tasks, &plan.issued), a, &task_ids, &agency_ids))
            .collect();
        n += assignment::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    record("assignments", n);
    let synthetic_tasks = Query::select()
        .column(task::Column::Id)
        .from(task::Entity)
        .and_where(task::Column::DirectiveId.in_subquery(synthetic_directives))
        .to_owned();
    let assignment_rows: HashMap<(i32, i32, AssignmentRole), i32> = assignment::Entity::find()
        .select_only()
        .columns([
            assignment::Column::TaskId,
            assignment::Column::OriginalAgencyId,
            assignment::Column::Role,
            assignment::Column::Id,
        ])
        .filter(assignment::Column::TaskId.in_subquery(synthetic_tasks))
        .into_tuple::<(i32, i32, AssignmentRole, i32)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(t, a, r, id)| ((t, a, r), id))
        .collect();

    // Progress reports, drawn as they go in.
    let per = batch_rows(19);
    let mut n = 0;
    let mut batch = Vec::with_capacity(per);
    let mut reports = Rng::new(0x00BA_0CA0_2025);
    for (i, a) in plan.assignments.iter().enumerate() {
        if a.reports == 0 {
            continue;
        }
        let key = (task_ids[a.task], agency_ids[a.agency], a.role);
        let assignment_id = *assignment_rows.get(&key).ok_or_else(|| SyntheticError::Missing {
            table: "assignments",
            key: format!("{key:?}"),
        })?;
        let author = format!("{}-cb", plan.agencies[a.agency].code);
        let periods = a.periods();
        let last = periods.len().saturating_sub(1);
        let reach = 0.55 + 0.45 * reports.unit();
        for (j, p) in periods.iter().enumerate() {
            let done = a.completes && j == last;
            let percent: i16 = if done {
                100
            } else {
                let share = (j + 1) as f64 / (periods.len() + 1) as f64;
                ((share * reach * 100.0).round() as i16).clamp(0, 95)
            };
            let state = if done {
                ReportState::Accepted
            } else if j < last {
                if reports.chance(0.92) {
                    ReportState::Accepted
                } else {
                    ReportState::Submitted
                }
            } else {
                match reports.unit() {
                    r if r < 0.55 => ReportState::Submitted,
                    r if r < 0.87 => ReportState::Accepted,
                    r if r < 0.94 => ReportState::Returned,
                    _ => ReportState::Draft,
                }
            };
            let sent = submitted_at(i, j, p);
            let submitted = (state != ReportState::Draft).then_some(sent);
            let reviewed = matches!(state, ReportState::Accepted | ReportState::Returned)
                .then(|| sent + chrono::Duration::days(reports.range(1, 7)));
            let summary = format!(
                "Kỳ {p}: {}; đạt khoảng {percent}% khối lượng công việc",
                reports.pick(SUMMARIES)
            );
            batch.push(progress_report::ActiveModel {
                assignment_id: Set(assignment_id),
                agency_id: Set(agency_ids[a.agency]),
                period: Set(p.to_string()),
                percent_complete: Set(percent),
                done: Set(done),
                summary: Set(if done {
                    format!("Đã hoàn thành nhiệm vụ được giao ({p})")
                } else {
                    summary
                }),
                obstacles: Set(reports.chance(0.2).then(|| (*reports.pick(OBSTACLES)).to_owned())),
                proposals: Set(reports.chance(0.1).then(|| (*reports.pick(PROPOSALS)).to_owned())),
                state: Set(state),
                author: Set(author.clone()),
                idempotency_key: Set(None),
                version: Set(if state == ReportState::Returned { 2 } else { 1 }),
                review_comment: Set((state == ReportState::Returned)
                    .then(|| "Đề nghị bổ sung số liệu, kết quả cụ thể".to_owned())),
                reviewed_by: Set(reviewed.map(|_| "syn-monitor".to_owned())),
                reviewed_at: Set(reviewed),
                submitted_at: Set(submitted),
                submitted_on: Set(submitted.map(crate::clock::civil_date)),
                created_at: Set(sent - chrono::Duration::hours(2)),
                updated_at: Set(reviewed.unwrap_or(sent)),
                ..Default::default()
            });
            if batch.len() == per {
                n += progress_report::Entity::insert_many(std::mem::take(&mut batch))
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
    }
    n += progress_report::Entity::insert_many(batch)
        .exec_without_returning(&txn)
        .await?;
    record("progress_reports", n);

    // Indicators and their monthly values.
    let mut ind = Rng::new(0x01D1_CA70_2025);
    let mut rows = Vec::with_capacity(scale.indicators as usize);
    let mut shapes = Vec::with_capacity(scale.indicators as usize);
    let departments: Vec<usize> = plan
        .agencies
        .iter()
        .enumerate()
        .filter(|(_, a)| a.kind == AgencyKind::Department)
        .map(|(i, _)| i)
        .collect();
    for i in 0..scale.indicators as usize {
        let &(name, unit, measure, direction, comparator, (lo, hi), scale_digits) = ind.pick(INDICATORS);
        let target = Decimal::new(ind.range(lo, hi), scale_digits);
        let responsible = if departments.is_empty() || ind.chance(0.2) {
            ind.below(plan.agencies.len())
        } else {
            *ind.pick(&departments)
        };
        let directive_id = (!directive_ids.is_empty() && ind.chance(0.5))
            .then(|| directive_ids[ind.below(directive_ids.len())]);
        let name = format!(
            "{name} {} {}",
            ind.pick(&["tại", "khu vực", "vùng"]),
            place(&mut ind)
        );
        let code = format!("{PREFIX}2025.{:04}", i + 1);
        rows.push(indicator::ActiveModel {
            code: Set(code.clone()),
            item: Set(Some(format!("({})", i + 1))),
            name: Set(name),
            unit: Set(Some(unit.to_owned())),
            target: Set(Some(target.normalize().to_string())),
            target_text: Set(Some(format_vn_decimal(&target))),
            comparator: Set(Some(comparator)),
            direction: Set(direction),
            measure: Set(measure),
            year: Set(2025),
            parent_id: Set(None),
            responsible_agency_id: Set(Some(agency_ids[responsible])),
            directive_id: Set(directive_id),
            qualitative: Set(false),
            description: Set(None),
            source_text: Set(None),
            ordinal: Set(1_000 + i32::try_from(i).unwrap_or(i32::MAX - 1_000)),
            created_at: Set(created),
            updated_at: Set(created),
            ..Default::default()
        });
        shapes.push((code, target, measure, scale_digits));
    }
    let n = insert_batches(&txn, rows, batch_rows(20)).await?;
    record("indicators", n);
    let ids = code_ids(
        indicator::Entity::find()
            .select_only()
            .columns([indicator::Column::Code, indicator::Column::Id])
            .filter(indicator::Column::Code.like(format!("{PREFIX}%")))
            .into_tuple::<(String, i32)>()
            .all(&txn)
            .await?,
    );
    let mut values = Vec::with_capacity(shapes.len() * 12);
    for (code, target, measure, digits) in &shapes {
        let id = lookup(&ids, code, "indicators")?;
        let t = target.to_f64().unwrap_or(0.0);
        let pace = 0.85 + 0.3 * ind.unit();
        for m in 1..=12u32 {
            let v = match measure {
                Measure::Cumulative => t * f64::from(m) / 12.0 * pace * (0.95 + 0.1 * ind.unit()),
                Measure::Level => t * (0.9 + 0.2 * ind.unit()),
            };
            let v = Decimal::new((v * 10f64.powi(*digits as i32)).round() as i64, *digits);
            let recorded = at(add_days(month_end(2025, m), ind.range(5, 15)), 120);
            values.push(indicator_value::ActiveModel {
                indicator_id: Set(id),
                period: Set(format!("2025{m:02}")),
                value: Set(v.normalize().to_string()),
                kind: Set(if m <= 10 {
                    ValueKind::Official
                } else {
                    ValueKind::Estimate
                }),
                note: Set(None),
                recorded_by: Set("syn-monitor".to_owned()),
                recorded_at: Set(recorded),
                ..Default::default()
            });
        }
    }
    let n = insert_batches(&txn, values, batch_rows(7)).await?;
    record("indicator_values", n);

    let summary: BTreeMap<&str, u64> = counts.iter().map(|(t, n, _)| (*t, *n)).collect();
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor: Set("seed".into()),
        actor_role: Set("system".into()),
        action: Set("seed-synthetic".into()),
        entity: Set("seed".into()),
        after: Set(Some(format!("synthetic {scale:?}: inserted {summary:?}"))),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let load = started.elapsed();

    let analyze = if db.get_database_backend() == DbBackend::Postgres {
        let t = Instant::now();
        db.execute_unprepared(
            "VACUUM (ANALYZE) agencies, directives, tasks, assignments, progress_reports, indicators, \
             indicator_values",
        )
        .await?;
        Some(t.elapsed())
    } else {
        None
    };
    Ok(SyntheticReport {
        scale,
        counts,
        load,
        analyze,
    })
}

fn assignment_row(
    (tasks, issued): (&[TaskPlan], &[NaiveDate]),
    a: &AssignmentPlan,
    task_ids: &[i32],
    agency_ids: &[i32],
) -> assignment::ActiveModel {
    let task = &tasks[a.task];
    let created = at(issued[task.directive], 120);
    let completed_on = if a.completes { task.completed_on } else { None };
    assignment::ActiveModel {
        task_id: Set(task_ids[a.task]),
        agency_id: Set(agency_ids[a.agency]),
        original_agency_id: Set(agency_ids[a.agency]),
        role: Set(a.role),
        via_group_id: Set(None),
        completed_on: Set(completed_on),
        transferred_on: Set(None),
        created_at: Set(created),
        updated_at: Set(completed_on.map(|d| at(d, 600)).unwrap_or(created)),
        ..Default::default()
    }
}

fn month_end(y: i32, m: u32) -> NaiveDate {
    PeriodId::new(y, PeriodType::Month, m)
        .map(|p| p.calendar_range().1)
        .unwrap_or(NaiveDate::MIN)
}

fn code_ids(rows: Vec<(String, i32)>) -> HashMap<String, i32> {
    rows.into_iter().collect()
}

fn lookup(ids: &HashMap<String, i32>, code: &str, table: &'static str) -> Result<i32, SyntheticError> {
    ids.get(code).copied().ok_or_else(|| SyntheticError::Missing {
        table,
        key: code.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles only while `load` can be spawned on a multi-threaded runtime.
    #[allow(dead_code)]
    fn load_is_send(db: &DatabaseConnection) {
        fn send<T: Send>(_: &T) {}
        send(&load(db, Scale::DEFAULT));
    }

    #[test]
    fn spread_sums_exactly() {
        let mut rng = Rng::new(7);
        for (total, parts) in [(0, 3), (1, 5), (100, 7), (200_000, 60_000), (5, 1)] {
            let v = spread(&mut rng, total, parts, 0.2, 1.8);
            assert_eq!(v.len(), parts);
            assert_eq!(v.iter().sum::<u64>(), total);
        }
    }

    #[test]
    fn the_plan_is_deterministic_and_parses() {
        let scale = Scale::times(0.01);
        let a = plan(scale, &HashSet::new()).expect("plan");
        let b = plan(scale, &HashSet::new()).expect("plan");
        assert_eq!(a.tasks.len(), scale.tasks as usize);
        assert_eq!(a.assignments.len(), 3 * scale.tasks as usize);
        let codes = |p: &Plan| p.tasks.iter().map(|t| t.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&a), codes(&b));
        assert_eq!(
            a.assignments.iter().map(|x| x.reports as u64).sum::<u64>(),
            u64::from(scale.reports)
        );
        assert_eq!(a.agencies[0].code, MARKER_AGENCY);
    }

    #[test]
    fn every_phrase_kind_parses() {
        let mut rng = Rng::new(11);
        for _ in 0..5_000 {
            let p = deadline_phrase(&mut rng, date(2024, 1, 2), date(2026, 12, 31));
            let d = parse_deadline(p.as_deref()).expect("parses");
            if let Some(due) = d.due_on {
                assert!(
                    due >= date(2024, 1, 1) && due <= date(2026, 12, 31),
                    "{p:?} → {due}"
                );
            }
        }
    }
}
