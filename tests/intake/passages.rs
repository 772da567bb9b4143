//! Table tests: short assignment passages in the style of other provinces' directives and
//! meeting conclusions (written here, not taken from the seed documents), with the reading
//! expected: the tasks, leads, coordinators, deadline words, report flag, and the doubts.

use api::intake::TaskDraft;

/// A small directive dated `day/month/year` around `body` (parts I and II).
fn doc(day: u32, month: u32, year: i32, body: &str) -> String {
    format!(
        "Số: 15/CT-UBND\n\nLào Cai, ngày {day} tháng {month} năm {year}\n\nCHỈ THỊ\n\nVỀ TĂNG CƯỜNG KỶ LUẬT HÀNH CHÍNH\n\n\
         I. MỤC TIÊU, YÊU CẦU\n\n1. Nâng cao hiệu quả chỉ đạo, điều hành.\n\nII. NHIỆM VỤ, GIẢI PHÁP\n\n{body}\n\nNơi nhận:\n- Như trên;\n\nCHỦ TỊCH\n\nNguyễn Văn A\n"
    )
}

fn read(text: &str) -> Vec<TaskDraft> {
    api::intake::read(text, &super::agencies()).tasks
}

struct Want {
    leads: &'static [&'static str],
    coordinators: &'static [&'static str],
    deadline: Option<&'static str>,
    report: bool,
    /// A word every expected doubt contains (none: no doubt).
    doubt: Option<&'static str>,
}

fn check(name: &str, got: &TaskDraft, want: &Want) {
    let s = |v: &[&str]| v.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    assert_eq!(got.leads, s(want.leads), "{name}: leads of {}", got.code);
    assert_eq!(
        got.coordinators,
        s(want.coordinators),
        "{name}: coordinators of {}",
        got.code
    );
    assert_eq!(
        got.deadline.as_deref(),
        want.deadline,
        "{name}: deadline of {}",
        got.code
    );
    assert_eq!(
        got.requires_report, want.report,
        "{name}: report flag of {}",
        got.code
    );
    match want.doubt {
        None => assert!(
            got.doubts.is_empty(),
            "{name}: no doubt expected, got {:?}",
            got.doubts
        ),
        Some(w) => assert!(
            got.doubts.iter().any(|d| d.contains(w)),
            "{name}: a doubt about “{w}” expected, got {:?}",
            got.doubts
        ),
    }
}

fn one(name: &str, day: (u32, u32, i32), body: &str, want: Want) {
    let tasks = read(&doc(day.0, day.1, day.2, body));
    assert_eq!(
        tasks.len(),
        1,
        "{name}: one task, got {:?}",
        tasks.iter().map(|t| &t.code).collect::<Vec<_>>()
    );
    check(name, &tasks[0], &want);
}

#[test]
fn a_department_leads_with_the_departments_in_2025() {
    one(
        "giao … chủ trì, phối hợp các Sở, ngành",
        (10, 4, 2025),
        "1. Giao Sở Tài chính chủ trì, phối hợp các Sở, ngành hoàn thiện phương án phân bổ vốn đầu tư công năm 2026, hoàn thành trong tháng 5/2025.",
        Want {
            leads: &["so-tai-chinh"],
            coordinators: &["@cac-so-ban-nganh-2025"],
            deadline: Some("trong tháng 5/2025"),
            report: false,
            doubt: None,
        },
    );
}

#[test]
fn after_july_2025_the_localities_are_communes_and_wards() {
    one(
        "kết luận giao ban",
        (20, 7, 2025),
        "1. Sở Xây dựng chủ trì, phối hợp với Sở Nông nghiệp và Môi trường, UBND các xã, phường rà soát quỹ đất tái định cư, báo cáo UBND tỉnh trước ngày 15/8/2025.",
        Want {
            leads: &["so-xay-dung"],
            coordinators: &["so-nong-nghiep-moi-truong", "@ubnd-cac-xa-phuong"],
            deadline: Some("trước ngày 15/8/2025"),
            report: true,
            doubt: None,
        },
    );
}

#[test]
fn inline_items_take_the_bullets_lead_and_add_their_coordinators() {
    let tasks = read(&doc(
        5,
        3,
        2025,
        "1. Về y tế\n\n- Sở Y tế: (1) Tăng cường kiểm tra an toàn thực phẩm tại các bếp ăn tập thể; (2) Phối hợp với Bảo hiểm xã hội tỉnh triển khai khám chữa bệnh bằng căn cước công dân, báo cáo UBND tỉnh trong Quý III/2025.",
    ));
    assert_eq!(
        tasks
            .iter()
            .map(|t| (t.code.as_str(), t.item.as_deref()))
            .collect::<Vec<_>>(),
        [("II.1-1.1", Some("(1)")), ("II.1-1.2", Some("(2)"))]
    );
    assert_eq!(tasks[0].lead_in.as_deref(), Some("Sở Y tế:"));
    check(
        "(1)",
        &tasks[0],
        &Want {
            leads: &["so-y-te"],
            coordinators: &[],
            deadline: None,
            report: false,
            doubt: None,
        },
    );
    check(
        "(2)",
        &tasks[1],
        &Want {
            leads: &["so-y-te"],
            coordinators: &["bao-hiem-xa-hoi-tinh"],
            deadline: Some("trong Quý III/2025"),
            report: true,
            doubt: None,
        },
    );
}

#[test]
fn sub_bullets_are_tasks_of_the_bullets_agencies() {
    let tasks = read(&doc(
        2,
        1,
        2025,
        "1. Về quốc phòng, an ninh\n\n- Công an tỉnh, Bộ Chỉ huy Quân sự tỉnh:\n\n+ Bảo đảm tuyệt đối an ninh, an toàn các sự kiện chính trị quan trọng;\n\n+ Chủ động nắm chắc tình hình biên giới trong năm 2025.",
    ));
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1].code, "II.1-1.2");
    for (t, deadline) in tasks.iter().zip([None, Some("trong năm 2025")]) {
        check(
            "+",
            t,
            &Want {
                leads: &["cong-an-tinh", "bo-chi-huy-quan-su-tinh"],
                coordinators: &[],
                deadline,
                report: false,
                doubt: None,
            },
        );
    }
}

#[test]
fn a_request_to_the_front_and_the_mass_organisations() {
    one(
        "đề nghị",
        (1, 8, 2025),
        "1. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội tỉnh tăng cường tuyên truyền, vận động Nhân dân tham gia bảo vệ môi trường.",
        Want {
            leads: &["uy-ban-mttq-tinh", "@cac-to-chuc-chinh-tri-xa-hoi-tinh"],
            coordinators: &[],
            deadline: None,
            report: false,
            doubt: None,
        },
    );
}

#[test]
fn a_department_merged_before_the_date_becomes_its_successor() {
    one(
        "sở đã hợp nhất",
        (10, 5, 2025),
        "1. Sở Kế hoạch và Đầu tư chủ trì tổng hợp nhu cầu vốn, báo cáo Chủ tịch UBND tỉnh trong tháng 6/2025.",
        Want {
            leads: &["so-tai-chinh"],
            coordinators: &[],
            deadline: Some("trong tháng 6/2025"),
            report: true,
            doubt: Some("kế thừa"),
        },
    );
}

#[test]
fn a_sentence_without_an_assignee_is_flagged() {
    one(
        "không có cơ quan",
        (10, 3, 2025),
        "1. Tăng cường kỷ luật, kỷ cương hành chính trong thực thi công vụ trên địa bàn toàn tỉnh.",
        Want {
            leads: &[],
            coordinators: &[],
            deadline: None,
            report: false,
            doubt: Some("chủ trì"),
        },
    );
}

#[test]
fn an_unknown_coordinator_is_flagged_not_guessed() {
    one(
        "tên lạ",
        (10, 3, 2025),
        "1. Sở Công Thương chủ trì, phối hợp với Hiệp hội Doanh nghiệp tỉnh xây dựng chương trình xúc tiến thương mại năm 2025.",
        Want {
            leads: &["so-cong-thuong"],
            coordinators: &[],
            deadline: None,
            report: false,
            doubt: Some("Hiệp hội Doanh nghiệp"),
        },
    );
}

#[test]
fn two_deadlines_take_the_later_and_say_so() {
    one(
        "hai thời hạn",
        (10, 3, 2025),
        "1. Sở Nội vụ xây dựng đề án sắp xếp đơn vị sự nghiệp, trình UBND tỉnh trước ngày 30/6/2025; tổ chức thực hiện trong Quý III/2025.",
        Want {
            leads: &["so-noi-vu"],
            coordinators: &[],
            deadline: Some("trong Quý III/2025"),
            report: false,
            doubt: Some("thời hạn"),
        },
    );
}

#[test]
fn a_recurring_report() {
    one(
        "định kỳ",
        (10, 3, 2025),
        "1. Văn phòng UBND tỉnh theo dõi, đôn đốc việc thực hiện Chỉ thị này, tổng hợp báo cáo UBND tỉnh định kỳ hàng quý.",
        Want {
            leads: &["van-phong-ubnd-tinh"],
            coordinators: &[],
            deadline: Some("định kỳ hàng quý"),
            report: true,
            doubt: None,
        },
    );
}

#[test]
fn the_departments_listed_after_cac_so() {
    one(
        "Các sở: …",
        (10, 3, 2025),
        "1. Các sở: Tư pháp, Nội vụ chủ trì rà soát văn bản quy phạm pháp luật hết hiệu lực, hoàn thành trước 30/9/2025.",
        Want {
            leads: &["so-tu-phap", "so-noi-vu"],
            coordinators: &[],
            deadline: Some("trước 30/9/2025"),
            report: false,
            doubt: None,
        },
    );
}

#[test]
fn a_bold_deadline_wins_over_a_plain_one() {
    one(
        "in đậm",
        (30, 12, 2024),
        "1. Sở Du lịch xây dựng kế hoạch đón 10 triệu lượt khách trong năm 2025, báo cáo UBND tỉnh **trước ngày 20/01/2025**.",
        Want {
            leads: &["so-du-lich"],
            coordinators: &[],
            deadline: Some("trước ngày 20/01/2025"),
            report: true,
            doubt: Some("in đậm"),
        },
    );
}

#[test]
fn broken_lines_are_joined_and_the_chair_heads_the_communes() {
    let body = "1. Yêu cầu Chủ tịch UBND các xã, phường chỉ đạo rà soát, thống kê thiệt hại do\n\nthiên tai, báo cáo UBND tỉnh trước ngày\n10/10/2025.";
    let tasks = read(&doc(1, 10, 2025, body));
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        tasks[0].text,
        "Yêu cầu Chủ tịch UBND các xã, phường chỉ đạo rà soát, thống kê thiệt hại do thiên tai, báo cáo UBND tỉnh trước ngày 10/10/2025."
    );
    check(
        "xuống dòng",
        &tasks[0],
        &Want {
            leads: &["@ubnd-cac-xa-phuong"],
            coordinators: &[],
            deadline: Some("trước ngày 10/10/2025"),
            report: true,
            doubt: None,
        },
    );
}

#[test]
fn the_document_header_is_read() {
    let d = api::intake::read(
        &doc(10, 3, 2025, "1. Sở Tư pháp chủ trì thực hiện."),
        &super::agencies(),
    );
    assert_eq!(d.directive.number.as_deref(), Some("15/CT-UBND"));
    assert_eq!(d.directive.kind, entity::enums::DirectiveKind::ChiThi);
    assert_eq!(d.directive.code, "ct-15-2025");
    assert_eq!(
        d.directive.issued_on,
        chrono::NaiveDate::from_ymd_opt(2025, 3, 10)
    );
    assert_eq!(d.directive.title, "Về tăng cường kỷ luật hành chính");
    assert_eq!(d.directive.signer.as_deref(), Some("Nguyễn Văn A"));
    assert!(d.doubts.iter().any(|x| x.contains("Phần I")), "{:?}", d.doubts);
}
