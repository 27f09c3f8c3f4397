//! Forms and questionnaires: staff build a form and send it; the client fills it over several
//! visits and submits; conditions, required fields, signatures, review, reopening and exports.

use portico_db::forms;

use crate::both;
use crate::support::fixture::{PASSWORD, client_viewer};
use crate::support::{Backend, Browser, Fixture, TestApp};

/// Makes one builder change at `version`; returns the response.
async fn edit(
    staff: &Browser,
    tid: &str,
    version: i64,
    fields: &[(&str, &str)],
) -> crate::support::browser::Page {
    let page = format!("/staff/forms/{tid}");
    let v = version.to_string();
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    staff.submit(&page, &format!("{page}/edit"), &all).await
}

/// Builds the questionnaire of the walkthrough through the builder; returns the template id.
async fn build(app: &TestApp, staff: &Browser) -> String {
    let made = staff
        .submit(
            "/staff/forms",
            "/staff/forms",
            &[("title", "Visa questionnaire <b>2026</b>")],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let tid = made
        .location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let steps: Vec<Vec<(&str, &str)>> = vec![
        vec![("op", "section"), ("section", "0"), ("title", "About you")],
        vec![
            ("op", "add_field"),
            ("section", "0"),
            ("kind", "short_text"),
            ("label", "Full name <script>alert(1)</script>"),
            ("required", "on"),
            ("max", "100"),
        ],
        vec![
            ("op", "add_field"),
            ("section", "0"),
            ("kind", "yes_no"),
            ("label", "Are you married?"),
            ("required", "on"),
        ],
        vec![
            ("op", "add_field"),
            ("section", "0"),
            ("kind", "short_text"),
            ("label", "Spouse's name"),
            ("required", "on"),
            ("show_if", "q3=yes"),
        ],
        vec![
            ("op", "add_field"),
            ("section", "0"),
            ("kind", "number"),
            ("label", "Age"),
            ("min", "18"),
            ("max", "130"),
        ],
        vec![("op", "add_section"), ("title", "Details")],
        vec![
            ("op", "add_field"),
            ("section", "1"),
            ("kind", "multi_choice"),
            ("label", "Languages"),
            ("options", "English\nSpanish\nFrench"),
        ],
        vec![
            ("op", "add_field"),
            ("section", "1"),
            ("kind", "address"),
            ("label", "Home address"),
            ("required", "on"),
        ],
        vec![
            ("op", "add_field"),
            ("section", "1"),
            ("kind", "short_text"),
            ("label", "Receipt number"),
            ("pattern", "[A-Z]{3}[0-9]{10}"),
        ],
        vec![("op", "add_section"), ("title", "Signature")],
        vec![
            ("op", "add_field"),
            ("section", "2"),
            ("kind", "signature"),
            ("label", "Sign the questionnaire"),
            ("required", "on"),
        ],
    ];
    for (i, step) in steps.iter().enumerate() {
        let r = edit(staff, &tid, i as i64 + 1, step).await;
        assert_eq!(r.status, 303, "step {i}: {}", r.body);
    }
    let _ = app;
    tid
}

/// Posts a form page as the page's own form would, with its token and revision.
async fn post_page(
    person: &Browser,
    fid: &str,
    page: usize,
    fields: &[(&str, &str)],
    go: &str,
) -> crate::support::browser::Page {
    let shown = person
        .get(&format!("/portal/forms/{fid}?page={page}"))
        .await;
    let csrf = shown.csrf();
    let rev = between(&shown.body, "name=\"rev\" value=\"", "\"");
    let p = page.to_string();
    let mut all = vec![
        ("csrf", csrf.as_str()),
        ("rev", rev.as_str()),
        ("page", p.as_str()),
        ("go", go),
    ];
    let qs: Vec<String> = shown
        .body
        .match_indices("name=\"q\" value=\"")
        .map(|(i, m)| {
            let rest = &shown.body[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect();
    for q in &qs {
        all.push(("q", q.as_str()));
    }
    all.extend_from_slice(fields);
    person.post(&format!("/portal/forms/{fid}"), &all).await
}

fn between(body: &str, start: &str, end: &str) -> String {
    let i = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    body[i..i + body[i..].find(end).unwrap()].to_string()
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, pypdf\nr = pypdf.PdfReader(sys.argv[1])\nprint(''.join(p.extract_text() for p in r.pages))"])
        .arg(&path)
        .output()
        .expect("python3 runs (pypdf is installed by .ci/run)");
    assert!(
        out.status.success(),
        "pypdf read the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

both! {
    async fn a_questionnaire_filled_over_three_visits_then_reviewed_reopened_and_exported(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let tid = build(&app, &staff).await;
        let builder = staff.get(&format!("/staff/forms/{tid}")).await.body;
        assert!(builder.contains("Version 12") && builder.contains("Shown when “Are you married?” is “yes”"));
        assert!(builder.contains("Full name &#60;script&#62;") && !builder.contains("<script>alert"));

        // Staff send it; the client sees a task and a notification.
        let forms_page = format!("/staff/clients/{}/forms", client.id);
        let sent = staff.submit(&forms_page, &forms_page, &[("template", &tid), ("due_on", "2030-01-31")]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let fid = forms::for_client(&app.db, &f.a.owner, client.id).await.unwrap()[0].id.to_string();

        // Visit 1: the name, then "save and continue later".
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let home = person.get("/portal").await.body;
        let card = between(&home, "<h2>Forms", "</article>");
        assert!(card.contains(&format!("/portal/forms/{fid}")) && card.contains("to fill in") && card.contains("See all (1)"), "{card}");
        assert!(person.get("/notifications").await.body.contains("The firm sent you a form to fill in"));
        let page1 = person.get(&format!("/portal/forms/{fid}")).await.body;
        assert!(page1.contains("Page 1 of 3") && page1.contains("Full name &#60;script&#62;"));
        assert!(page1.contains("data-show-if=\"f.q3\"") && page1.contains("Only if you answered “Yes” to “Are you married?”"));
        let saved = post_page(&person, &fid, 1, &[("f.q2", "Ana =SUM(1,2)"), ("f.q3", "no"), ("f.q4", "")], "save").await;
        assert_eq!(saved.status, 303, "{}", saved.body);

        // Visit 2 (another session): the answers are there; on to page 2, partly filled.
        let person = app.browser();
        person.login(email, PASSWORD).await;
        assert!(between(&person.get("/portal").await.body, "<h2>Forms", "</article>").contains("started, not sent yet"));
        let again = person.get(&format!("/portal/forms/{fid}")).await.body;
        assert!(again.contains("value=\"Ana =SUM(1,2)\"") && again.contains("value=\"no\" checked"));
        let next = post_page(&person, &fid, 1, &[("f.q2", "Ana =SUM(1,2)"), ("f.q3", "no"), ("f.q5", "40")], "next").await;
        assert_eq!(next.location.as_deref(), Some(format!("/portal/forms/{fid}?page=2").as_str()));
        post_page(&person, &fid, 2, &[("f.q6", "English"), ("f.q6", "French"), ("f.q7.line1", "1 Main St"), ("f.q7.city", "Springfield")], "save").await;

        // Staff change the template meanwhile: the client's form keeps its version and answers.
        let v = forms::template(&app.db, &f.a.owner, tid.parse().unwrap()).await.unwrap().0.version;
        assert_eq!(edit(&staff, &tid, v, &[("op", "field"), ("field", "q2"), ("kind", "number"), ("label", "Renamed"), ("required", "on")]).await.status, 303);
        assert_eq!(edit(&staff, &tid, v + 1, &[("op", "add_field"), ("section", "0"), ("kind", "short_text"), ("label", "New required question"), ("required", "on")]).await.status, 303);
        let kept = person.get(&format!("/portal/forms/{fid}")).await.body;
        assert!(kept.contains("Full name") && !kept.contains("Renamed") && !kept.contains("New required question"));
        assert!(kept.contains("value=\"Ana =SUM(1,2)\""));

        // Visit 3: submitting with the address incomplete and no signature points at both.
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let refused = post_page(&person, &fid, 3, &[], "submit").await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("2 questions need attention"), "{}", refused.body);
        let problems = between(&refused.body, "<ul class=\"problems\">", "</ul>");
        assert!(problems.contains(&format!("/portal/forms/{fid}?page=2&#38;check=1#q-q7")), "{problems}");
        assert!(refused.body.contains("Give at least the street, city and country."));
        assert!(refused.body.contains("#q-q9") && refused.body.contains("Sign here"));
        post_page(&person, &fid, 2, &[("f.q6", "English"), ("f.q7.line1", "1 Main St"), ("f.q7.city", "Springfield"), ("f.q7.country", "US"), ("f.q8", "bad")], "next").await;
        // A receipt number not in the asked form is refused at submission, pointedly.
        let pattern = post_page(&person, &fid, 3, &[("f.q9.name", "Ana Client"), ("f.q9.agree", "yes")], "submit").await;
        assert_eq!(pattern.status, 422);
        assert!(pattern.body.contains("Receipt number") && pattern.body.contains("not in the form asked for"));
        post_page(&person, &fid, 2, &[("f.q6", "English"), ("f.q7.line1", "1 Main St"), ("f.q7.city", "Springfield"), ("f.q7.country", "US"), ("f.q8", "IOE0123456789")], "next").await;
        let done = post_page(&person, &fid, 3, &[("f.q9.name", "Ana Client"), ("f.q9.agree", "yes")], "submit").await;
        assert_eq!(done.status, 303, "{}", done.body);
        let card = between(&person.get("/portal").await.body, "<h2>Forms", "</article>").to_string();
        assert!(card.contains("sent to the firm") && !card.contains("tag waiting"), "{card}");
        // The spouse question was hidden (not married), so it was not required.
        let view = person.get(&format!("/portal/forms/{fid}")).await.body;
        assert!(view.contains("Submitted") && view.contains("Signed by Ana Client (typed)") && !view.contains("name=\"rev\""));
        assert!(!view.contains("Spouse"));
        // Read-only afterwards, and a replayed submit is refused.
        let csrf = person.get("/portal/forms").await.csrf();
        let raw = person.post(&format!("/portal/forms/{fid}"), &[("csrf", csrf.as_str()), ("rev", "99"), ("page", "3"), ("go", "submit"), ("q", "q9"), ("f.q9.name", "Other"), ("f.q9.agree", "yes")]).await;
        assert_eq!(raw.status, 409, "{}", raw.body);
        assert!(raw.body.contains("submitted"));

        // The task is done; staff were notified; audit has the submission and the signature.
        assert!(person.get("/portal/tasks").await.body.contains("Nothing to do."));
        assert!(staff.get("/notifications").await.body.contains("A client submitted a form"));
        let events = portico_db::audit::recent_for_firm(&app.db, &f.a.owner, 100).await.unwrap();
        let submit = events.iter().find(|e| e.action == "form.submit").expect("form.submit audited");
        let sign = events.iter().find(|e| e.action == "form.sign").expect("form.sign audited");
        let hash = submit.detail.rsplit("sha256=").next().unwrap().to_string();
        assert!(sign.detail.contains(&hash) && sign.detail.contains("Ana Client"));

        // Staff review: answers, the signature record with time and address, the hash.
        let review = staff.get(&format!("/staff/client-forms/{fid}")).await.body;
        assert!(review.contains("English") && !review.contains("French"));
        assert!(review.contains("1 Main St, Springfield, US") && review.contains(&hash) && review.contains("from 127.0.0.1"));
        let pdf = staff.get(&format!("/staff/client-forms/{fid}/pdf")).await;
        assert_eq!(pdf.headers["content-type"], "application/pdf");
        let pdf_bytes = reqwest_bytes(&staff, &format!("/staff/client-forms/{fid}/pdf")).await;
        let text = pdf_text(&pdf_bytes);
        assert!(text.contains("Ana =SUM(1,2)") && text.contains("1 Main St, Springfield, US") && text.contains(&hash[..16]), "{text}");
        // The client may download their own copy; another client may not.
        assert_eq!(person.get(&format!("/portal/forms/{fid}/pdf")).await.status, 200);

        // Ask for changes: the client sees the comment and can edit; a second submission.
        let asked = staff.submit(&format!("/staff/client-forms/{fid}"), &format!("/staff/client-forms/{fid}/reopen"), &[("comment", "Please add your age <i>again</i>")]).await;
        assert_eq!(asked.status, 303);
        let reopened = person.get(&format!("/portal/forms/{fid}")).await.body;
        assert!(reopened.contains("The firm asked for changes: Please add your age &#60;i&#62;again&#60;/i&#62;"));
        post_page(&person, &fid, 1, &[("f.q2", "=HYPERLINK(\"http://evil\",\"x\")"), ("f.q3", "no"), ("f.q5", "41")], "next").await;
        assert_eq!(post_page(&person, &fid, 3, &[("f.q9.name", "Ana Client"), ("f.q9.agree", "yes")], "submit").await.status, 303);
        let (subs, sigs) = forms::submissions(&app.db, &f.a.owner, fid.parse().unwrap()).await.unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(sigs.len(), 2);
        assert!(subs[0].answers.contains("41") && subs[1].answers.contains("40"), "earlier submissions stay as they were");

        // CSV: one row per client, formulas neutralised, the current wording as the header.
        let csv = reqwest_bytes(&staff, &format!("/staff/forms/{tid}/export.csv")).await;
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with("Client,Submitted,Submitted by,Form version,Content SHA-256,Renamed,"), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""), "{csv}");
        assert_eq!(csv.lines().count(), 2, "{csv}");
        app.stop().await;
    }
}

async fn reqwest_bytes(b: &Browser, path: &str) -> Vec<u8> {
    let req = b.with_cookie(b.raw().get(b.url(path)));
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.bytes().await.unwrap().to_vec()
}

/// A one-page form of `n` short questions (q1..qn) plus a yes/no (y) and one shown when it is yes (s).
fn definition(n: usize) -> portico_core::forms::Definition {
    use portico_core::forms::{Condition, Definition, Field, Kind, Section};
    let field = |id: &str, kind: Kind, required: bool| Field {
        id: id.into(),
        kind,
        label: format!("Question {id}"),
        help: String::new(),
        required,
        options: if kind == Kind::SingleChoice {
            vec!["Red".into(), "Blue".into()]
        } else {
            Vec::new()
        },
        min: None,
        max: None,
        pattern: String::new(),
        show_if: None,
        consent: String::new(),
    };
    let mut fields: Vec<Field> = (1..=n)
        .map(|i| field(&format!("q{i}"), Kind::ShortText, false))
        .collect();
    fields.push(field("y", Kind::YesNo, true));
    let mut s = field("s", Kind::ShortText, true);
    s.show_if = Some(Condition {
        field: "y".into(),
        equals: "yes".into(),
    });
    fields.push(s);
    fields.push(field("c", Kind::SingleChoice, false));
    fields.push(field("n", Kind::Number, false));
    Definition {
        sections: vec![
            Section {
                title: "One".into(),
                help: String::new(),
                fields,
            },
            Section {
                title: "Two".into(),
                help: String::new(),
                fields: vec![field("p2", Kind::ShortText, false)],
            },
        ],
        next_field: 100,
    }
}

/// A template with [`definition`] sent to `client`; returns (template, form).
async fn sent(
    app: &TestApp,
    owner: &portico_core::Viewer,
    client: uuid::Uuid,
    n: usize,
) -> (uuid::Uuid, uuid::Uuid) {
    let origin = portico_db::audit::Origin::system("test");
    let t = forms::create_template(&app.db, owner, "Intake", "", &origin)
        .await
        .unwrap();
    forms::save_definition(&app.db, owner, t, 1, &definition(n), &origin)
        .await
        .unwrap();
    let id = forms::send(
        &app.db,
        owner,
        &forms::Send {
            template_id: t,
            client_id: client,
            ..Default::default()
        },
        &origin,
    )
    .await
    .unwrap();
    (t, id)
}

fn page_fields(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (1..=n).map(|i| format!("q{i}")).collect();
    v.extend(["y", "s", "c", "n"].map(String::from));
    v
}

async fn raw_post(
    b: &Browser,
    fid: uuid::Uuid,
    csrf: &str,
    rev: i64,
    extra: &[(&str, &str)],
    auto: bool,
) -> crate::support::browser::Page {
    let rev = rev.to_string();
    let go = extra
        .iter()
        .find(|(k, _)| *k == "go")
        .map_or("save", |(_, v)| *v);
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.into()),
        ("rev".into(), rev),
        ("page".into(), "1".into()),
        ("go".into(), go.into()),
    ];
    for q in page_fields(3) {
        form.push(("q".into(), q));
    }
    form.extend(
        extra
            .iter()
            .filter(|(k, _)| *k != "go")
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut req = b
        .raw()
        .post(b.url(&format!("/portal/forms/{fid}")))
        .header("origin", b.url(""))
        .form(&form);
    if auto {
        req = req.header("x-autosave", "1");
    }
    b.send(req).await
}

both! {
    async fn hostile_and_malformed_answers_are_refused_and_lose_nothing(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let (tid, fid) = sent(&app, &f.a.owner, client.id, 3).await;
        let (_, other) = sent(&app, &f.a.owner, f.a.clients[1].0.id, 3).await;
        let (tid_b, foreign) = sent(&app, &f.b.owner, f.b.clients[0].0.id, 3).await;
        let person = app.browser();
        person.login(email, PASSWORD).await;
        let csrf = person.get("/portal/forms").await.csrf();
        let rev = |body: &str| between(body, "name=\"rev\" value=\"", "\"").parse::<i64>().unwrap();

        // A good first save to keep.
        let first = raw_post(&person, fid, &csrf, 0, &[("f.q1", "keep me")], false).await;
        assert_eq!(first.status, 303, "{}", first.body);

        // Another client's and another firm's form, by id: not there.
        for id in [other, foreign] {
            assert_eq!(person.get(&format!("/portal/forms/{id}")).await.status, 404);
            assert_eq!(raw_post(&person, id, &csrf, 0, &[("f.q1", "x")], false).await.status, 404);
            assert_eq!(person.get(&format!("/portal/forms/{id}/pdf")).await.status, 404);
        }
        // The wrong side, and staff of another firm.
        assert_eq!(person.get(&format!("/staff/client-forms/{fid}")).await.status, 404);
        assert_eq!(person.get(&format!("/staff/forms/{tid}")).await.status, 404);
        assert_eq!(person.get(&format!("/staff/client-forms/{fid}/pdf")).await.status, 404);
        let staff_b = app.browser();
        staff_b.login(&f.b.owner_email, PASSWORD).await;
        assert_eq!(staff_b.get(&format!("/staff/client-forms/{fid}")).await.status, 404);
        assert_eq!(staff_b.get(&format!("/staff/forms/{tid}/export.csv")).await.status, 404);
        assert_eq!(staff_b.get(&format!("/staff/forms/{tid}")).await.status, 404);
        assert_eq!(staff_b.get(&format!("/staff/forms/{tid_b}")).await.status, 200);
        let csrf_b = staff_b.get("/staff/forms").await.csrf();
        assert_eq!(staff_b.post(&format!("/staff/forms/{tid}/edit"), &[("csrf", &csrf_b), ("version", "2"), ("op", "add_section"), ("title", "x")]).await.status, 404);
        let to_a = staff_b.post(&format!("/staff/clients/{}/forms", client.id), &[("csrf", &csrf_b), ("template", &tid_b.to_string())]).await;
        assert_eq!(to_a.status, 404);
        assert_eq!(staff_b.post(&format!("/staff/clients/{}/forms", f.b.clients[0].0.id), &[("csrf", &csrf_b), ("template", &tid.to_string())]).await.status, 404);

        // No token; wrong shapes; fields that do not exist; choices not offered; oversized.
        let none = person.send(person.raw().post(person.url(&format!("/portal/forms/{fid}"))).header("origin", person.url("")).form(&[("rev", "1"), ("page", "1"), ("q", "q1"), ("f.q1", "x")])).await;
        assert_eq!(none.status, 403);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("f.q1", "a"), ("f.q1", "b")], "wrong shape"),
            (vec![("f.q999", "x")], "no such question"),
            (vec![("f.p2", "from another page")], "no such question"),
            (vec![("f.c", "Green")], "not one of the choices"),
            (vec![("f.y", "maybe")], "answer yes or no"),
            (vec![("f.q2", "bad\u{0}byte")], "control characters"),
        ];
        for (extra, says) in &cases {
            let r = raw_post(&person, fid, &csrf, 1, extra, false).await;
            assert_eq!(r.status, 422, "{extra:?}: {}", r.status);
            assert!(r.body.contains(says), "{extra:?}: {}", r.body);
        }
        let long = "x".repeat(10_001);
        let r = raw_post(&person, fid, &csrf, 1, &[("f.q2", &long)], false).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("at most 10000 characters"));
        let huge = "x".repeat(5 * 1024 * 1024);
        assert_eq!(raw_post(&person, fid, &csrf, 1, &[("f.q2", &huge)], false).await.status, 413);
        let q999 = person.send(person.raw().post(person.url(&format!("/portal/forms/{fid}"))).header("origin", person.url("")).form(&[("csrf", csrf.as_str()), ("rev", "1"), ("page", "1"), ("q", "q999")])).await;
        assert_eq!(q999.status, 422);
        let wrong_type = person.send(person.raw().post(person.url(&format!("/portal/forms/{fid}"))).header("origin", person.url("")).header("content-type", "application/json").body("{}")).await;
        assert_eq!(wrong_type.status, 422);
        // Nothing was lost along the way.
        let page = person.get(&format!("/portal/forms/{fid}")).await.body;
        assert!(page.contains("value=\"keep me\""));
        assert_eq!(rev(&page), 1);

        // A number that is not one is kept in the draft but stops submission, pointedly; the
        // question shown by "yes" is then required.
        let saved = raw_post(&person, fid, &csrf, 1, &[("f.q1", "keep me"), ("f.n", "forty"), ("f.y", "yes"), ("f.q3", "<img src=x onerror=alert(1)>")], false).await;
        assert_eq!(saved.status, 303);
        let refused = raw_post(&person, fid, &csrf, 2, &[("f.q1", "keep me"), ("f.n", "forty"), ("f.y", "yes"), ("f.q3", "<img src=x onerror=alert(1)>"), ("go", "submit")], false).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("Enter a number") && refused.body.contains("#q-s") && refused.body.contains("value=\"forty\""));
        assert!(!refused.body.contains("<img src=x") && refused.body.contains("&#60;img src=x"));

        // Two tabs on the same page: the later save of the same answer is refused by name and
        // keeps what was typed; a save of another page merges.
        let tab_a = person.get(&format!("/portal/forms/{fid}")).await.body;
        let base = rev(&tab_a);
        let a = raw_post(&person, fid, &csrf, base, &[("f.q1", "from tab A"), ("f.n", "40"), ("f.y", "yes"), ("f.s", "Sam"), ("f.q3", "<img src=x onerror=alert(1)>")], false).await;
        assert_eq!(a.status, 303);
        let b = raw_post(&person, fid, &csrf, base, &[("f.q1", "from tab B"), ("f.n", "40"), ("f.y", "yes"), ("f.s", "Sam"), ("f.q3", "<img src=x onerror=alert(1)>")], false).await;
        assert_eq!(b.status, 409, "{}", b.body);
        assert!(b.body.contains("changed in another window") && b.body.contains("Question q1") && b.body.contains("value=\"from tab B\""));
        let auto = raw_post(&person, fid, &csrf, base, &[("f.q1", "from tab B")], true).await;
        assert_eq!(auto.status, 409);
        assert!(auto.body.contains("\"error\""));
        let other_page = person.send(person.raw().post(person.url(&format!("/portal/forms/{fid}"))).header("origin", person.url("")).header("x-autosave", "1")
            .form(&[("csrf", csrf.as_str()), ("rev", &base.to_string()), ("page", "2"), ("q", "p2"), ("f.p2", "page two")])).await;
        assert_eq!(other_page.status, 200, "{}", other_page.body);
        let merged = forms::get(&app.db, &client_viewer(&app.db, &f.a.owner, client.id).await, fid).await.unwrap();
        assert_eq!(merged.answers["q1"].text(), "from tab A");
        assert_eq!(merged.answers["p2"].text(), "page two");

        // Two submits at once: one wins, the other is told it was already submitted.
        let r = merged.assignment.rev;
        let (x, y) = tokio::join!(
            raw_post(&person, fid, &csrf, r, &[("f.q1", "from tab A"), ("f.n", "40"), ("f.y", "yes"), ("f.s", "Sam"), ("f.q3", "ok"), ("go", "submit")], false),
            raw_post(&person, fid, &csrf, r, &[("f.q1", "from tab A"), ("f.n", "40"), ("f.y", "yes"), ("f.s", "Sam"), ("f.q3", "ok"), ("go", "submit")], false)
        );
        let mut codes = [x.status.as_u16(), y.status.as_u16()];
        codes.sort();
        assert_eq!(codes[0], 303, "{} / {}", x.body, y.body);
        assert_eq!(codes[1], 409);
        let (subs, _) = forms::submissions(&app.db, &f.a.owner, fid).await.unwrap();
        assert_eq!(subs.len(), 1);
        // After submission the form is read-only.
        let late = raw_post(&person, fid, &csrf, r + 1, &[("f.q1", "late")], true).await;
        assert_eq!(late.status, 409);

        // The builder refuses a stale page, bad rules and changes it does not make.
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let t = tid.to_string();
        assert_eq!(edit(&staff, &t, 1, &[("op", "add_section"), ("title", "Late")]).await.status, 409);
        let bad: Vec<Vec<(&str, &str)>> = vec![
            vec![("op", "add_field"), ("section", "0"), ("kind", "short_text"), ("label", "P"), ("pattern", "(")],
            vec![("op", "add_field"), ("section", "0"), ("kind", "short_text"), ("label", "C"), ("show_if", "p2=yes")],
            vec![("op", "add_field"), ("section", "0"), ("kind", "single_choice"), ("label", "No choices")],
            vec![("op", "add_field"), ("section", "0"), ("kind", "rocket"), ("label", "K")],
            vec![("op", "add_field"), ("section", "9"), ("kind", "short_text"), ("label", "K")],
            vec![("op", "add_field"), ("section", "0"), ("kind", "number"), ("label", "N"), ("min", "5"), ("max", "1")],
            vec![("op", "remove_field"), ("field", "y")],
            vec![("op", "explode")],
        ];
        for step in &bad {
            let r = edit(&staff, &t, 2, step).await;
            assert_eq!(r.status, 422, "{step:?}");
        }
        assert_eq!(forms::template(&app.db, &f.a.owner, tid).await.unwrap().0.version, 2);
        app.stop().await;
    }

    async fn concurrent_saves_of_different_answers_all_land(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, _, _) = &f.a.clients[0];
        let (_, fid) = sent(&app, &f.a.owner, client.id, 12).await;
        let viewer = client_viewer(&app.db, &f.a.owner, client.id).await;
        let writer = forms::Writer::start(app.db.clone());
        let saves = (1..=12).map(|i| {
            let (db, viewer, writer) = (app.db.clone(), viewer.clone(), writer.clone());
            tokio::spawn(async move {
                let id = format!("q{i}");
                let save = forms::Save {
                    based_on: 0,
                    fields: vec![id.clone()],
                    answers: [(id, portico_core::forms::Value::Text(format!("answer {i}")))].into(),
                };
                let form = forms::get(&db, &viewer, fid).await.unwrap();
                matches!(forms::save_draft(&db, &writer, &viewer, &form, &save).await.unwrap(), forms::Saved::Done(_))
            })
        });
        for s in saves {
            assert!(s.await.unwrap(), "every save merged");
        }
        let filled = forms::get(&app.db, &viewer, fid).await.unwrap();
        for i in 1..=12 {
            assert_eq!(filled.answers[&format!("q{i}")].text(), format!("answer {i}"));
        }
        assert_eq!(filled.assignment.rev, 12);
        app.stop().await;
    }
}

both! {
    async fn a_link_by_email_opens_the_form_and_the_client_fills_it_in(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let (_, fid) = sent(&app, &f.a.owner, client.id, 3).await;
        let staff = app.browser();
        staff.login(&f.a.member_email, PASSWORD).await;
        let users = portico_db::clients::portal_users(&app.db, &f.a.owner, client.id).await.unwrap();
        let user = users.iter().find(|u| &u.email == email).unwrap();
        let review = format!("/staff/client-forms/{fid}");
        assert!(staff.get(&review).await.body.contains("Email a sign-in link to this form"));
        // Someone of another client is not a recipient for this form.
        let stranger = portico_db::clients::portal_users(&app.db, &f.a.owner, f.a.clients[1].0.id).await.unwrap().remove(0);
        let refused = staff.submit(&review, &format!("{review}/link"), &[("client_user_id", &stranger.client_user_id.to_string())]).await;
        assert_eq!(refused.status, 404);
        let sent = staff.submit(&review, &format!("{review}/link"), &[("client_user_id", &user.client_user_id.to_string())]).await;
        assert_eq!(sent.status, 303);
        assert!(staff.get(sent.location.as_deref().unwrap()).await.body.contains("The link is on its way."));
        let mail = app.smtp.wait_for(1, std::time::Duration::from_secs(10)).await;
        assert!(!mail[0].data.contains("Intake"), "the email does not name the form");
        let link = crate::support::smtp::link_path(&mail[0].data, "/a/");

        // Opened on a phone: straight to the form, which the link session can fill in.
        let phone = app.browser();
        let opened = phone.post(&link, &[]).await;
        assert_eq!(opened.location.as_deref(), Some(format!("/portal/forms/{fid}").as_str()));
        let page = phone.get(&format!("/portal/forms/{fid}")).await;
        assert!(page.body.contains("Question q1"));
        let saved = raw_post(&phone, fid, &page.csrf(), 0, &[("f.q1", "via the link")], true).await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert!(saved.body.contains("\"rev\":1"));
        app.stop().await;
    }
}

both! {
    async fn on_a_phone_the_form_saves_itself_shows_conditional_questions_and_takes_a_drawn_signature(backend: Backend) {
        use crate::support::webdriver::Chrome;
        let Some(chrome) = Chrome::start().await else { return };
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let (client, email, _) = &f.a.clients[0];
        let origin = portico_db::audit::Origin::system("test");
        let mut def = definition(1);
        def.sections[1].fields.push(portico_core::forms::Field {
            id: "sig".into(),
            kind: portico_core::forms::Kind::Signature,
            label: "Sign here".into(),
            help: String::new(),
            required: true,
            options: Vec::new(),
            min: None,
            max: None,
            pattern: String::new(),
            show_if: None,
            consent: "I agree that this is my signature.".into(),
        });
        let t = forms::create_template(&app.db, &f.a.owner, "Intake", "", &origin).await.unwrap();
        forms::save_definition(&app.db, &f.a.owner, t, 1, &def, &origin).await.unwrap();
        let fid = forms::send(&app.db, &f.a.owner, &forms::Send { template_id: t, client_id: client.id, ..Default::default() }, &origin).await.unwrap();
        let viewer = client_viewer(&app.db, &f.a.owner, client.id).await;

        chrome.window(390, 844).await;
        chrome.goto(&app.url("/login")).await;
        chrome.fill("#email", email).await;
        chrome.fill("#password", PASSWORD).await;
        chrome.click("button[type=submit]").await;
        chrome.wait_for_url("/portal").await;
        chrome.goto(&app.url(&format!("/portal/forms/{fid}"))).await;

        // The question shown by "yes" is hidden until "yes" is chosen.
        assert!(!chrome.displayed("#q-s").await);
        chrome.click("#q-y input[value=yes]").await;
        assert!(chrome.displayed("#q-s").await);
        chrome.fill("#i-s", "Sam").await;
        chrome.fill("#i-q1", "typed in the browser").await;
        // Saved without pressing anything.
        let page = chrome.wait_for_page(|p| p.contains("Saved at")).await;
        assert!(page.contains("Saved at"), "{page}");
        let draft = forms::get(&app.db, &viewer, fid).await.unwrap();
        assert_eq!(draft.answers["q1"].text(), "typed in the browser");
        assert_eq!(draft.answers["s"].text(), "Sam");

        // Page two: type the name, agree, draw, submit.
        chrome.click("button[value=next]").await;
        chrome.wait_until(|u| u.ends_with("page=2")).await;
        chrome.fill("input[name='f.sig.name']", "Ana Client").await;
        chrome.click("input[name='f.sig.agree']").await;
        let drawn = chrome.run_async(
            "const done = arguments[arguments.length - 1];\
             const c = document.querySelector('canvas.signature-pad');\
             const r = c.getBoundingClientRect();\
             const ev = (type, x, y) => c.dispatchEvent(new PointerEvent(type, { clientX: r.left + x, clientY: r.top + y, pointerId: 1, bubbles: true }));\
             ev('pointerdown', 10, 10); ev('pointermove', 80, 60); ev('pointermove', 150, 20); ev('pointerup', 150, 20);\
             done(document.querySelector('input[data-signature-pad]').value.slice(0, 22));",
        ).await;
        assert_eq!(drawn.as_str(), Some("data:image/png;base64,"));
        chrome.wait_for_page(|p| p.contains("Saved at")).await;
        chrome.click("button[value=submit]").await;
        let page = chrome.wait_for_page(|p| p.contains("Signed by Ana Client")).await;
        assert!(page.contains("Submitted") && page.contains("Signed by Ana Client (typed and drawn)"), "{page}");
        let (_, sigs) = forms::submissions(&app.db, &f.a.owner, fid).await.unwrap();
        assert!(sigs[0].drawn && sigs[0].consent == "I agree that this is my signature.");
        chrome.quit().await;
        app.stop().await;
    }
}
