//! Out-of-office replies told by their subject alone, in the words the common responders put
//! there (Outlook/Exchange "Automatic reply: ", "Out of Office: ", "Auto: "; Lotus Notes,
//! Zimbra, webmail vacation responders), in many languages.
//!
//! Only whole forms count: the subject is exactly the phrase ("Abwesenheitsnotiz"), or starts
//! with it followed by a colon ("Réponse automatique : Printer"). A phrase anywhere else, or
//! followed by anything but a colon, is what a person wrote: "Out of office supplies",
//! "Re: out of office party", "Absence of evidence".

use std::sync::LazyLock;

/// (phrase as the responders write it, language). Variants without diacritics are listed
/// where gateways are known to strip them.
const PHRASES: &[(&str, &str)] = &[
    ("Automatic reply", "English"),
    ("Automatic response", "English"),
    ("Auto reply", "English"),
    ("Auto-reply", "English"),
    ("Autoreply", "English"),
    ("Auto response", "English"),
    ("Auto-response", "English"),
    ("Autoresponse", "English"),
    ("Auto", "English"),
    ("Out of Office", "English"),
    ("Out of the Office", "English"),
    ("Out-of-Office", "English"),
    ("Out of Office AutoReply", "English"),
    ("Abwesenheitsnotiz", "German"),
    ("Automatische Antwort", "German"),
    ("Automatische Abwesenheitsnotiz", "German"),
    ("Abwesenheit", "German"),
    ("Réponse automatique", "French"),
    ("Reponse automatique", "French"),
    ("Réponse automatique d'absence du bureau", "French"),
    ("Absence du bureau", "French"),
    ("Absent du bureau", "French"),
    ("Absence", "French"),
    ("Risposta automatica", "Italian"),
    ("Fuori sede", "Italian"),
    ("Fuori ufficio", "Italian"),
    ("Risposta di assenza", "Italian"),
    ("Respuesta automática", "Spanish"),
    ("Respuesta automatica", "Spanish"),
    ("Fuera de la oficina", "Spanish"),
    ("Fuera de oficina", "Spanish"),
    ("Respuesta automática de fuera de la oficina", "Spanish"),
    ("Resposta automática", "Portuguese"),
    ("Resposta automatica", "Portuguese"),
    ("Ausente", "Portuguese"),
    ("Fora do escritório", "Portuguese"),
    ("Resposta automàtica", "Catalan"),
    ("Fora de l'oficina", "Catalan"),
    ("Automatisch antwoord", "Dutch"),
    ("Afwezig", "Dutch"),
    ("Afwezigheidsbericht", "Dutch"),
    ("Niet op kantoor", "Dutch"),
    ("Autosvar", "Swedish"),
    ("Automatiskt svar", "Swedish"),
    ("Frånvarande", "Swedish"),
    ("Frånvaromeddelande", "Swedish"),
    ("Fraværende", "Danish"),
    ("Automatisk svar", "Danish"),
    ("Ikke på kontoret", "Danish"),
    ("Fraværsmelding", "Norwegian"),
    ("Automaattinen vastaus", "Finnish"),
    ("Poissa", "Finnish"),
    ("Poissa toimistolta", "Finnish"),
    ("Automaatvastus", "Estonian"),
    ("Automātiskā atbilde", "Latvian"),
    ("Automatinis atsakymas", "Lithuanian"),
    ("Automatyczna odpowiedź", "Polish"),
    ("Automatyczna odpowiedz", "Polish"),
    ("Poza biurem", "Polish"),
    ("Automatická odpověď", "Czech"),
    ("Automaticka odpoved", "Czech"),
    ("Mimo kancelář", "Czech"),
    ("Automatická odpoveď", "Slovak"),
    ("Mimo kancelárie", "Slovak"),
    ("Automatikus válasz", "Hungarian"),
    ("Házon kívül", "Hungarian"),
    ("Irodán kívül", "Hungarian"),
    ("Răspuns automat", "Romanian"),
    ("Raspuns automat", "Romanian"),
    ("În afara biroului", "Romanian"),
    ("Automatski odgovor", "Croatian"),
    ("Izvan ureda", "Croatian"),
    ("Samodejni odgovor", "Slovenian"),
    ("Автоматический ответ", "Russian"),
    ("Автоответ", "Russian"),
    ("Вне офиса", "Russian"),
    ("Автоматична відповідь", "Ukrainian"),
    ("Автоматичен отговор", "Bulgarian"),
    ("Αυτόματη απάντηση", "Greek"),
    ("Εκτός γραφείου", "Greek"),
    ("Otomatik yanıt", "Turkish"),
    ("Otomatik yanit", "Turkish"),
    ("Otomatik cevap", "Turkish"),
    ("Ofis dışında", "Turkish"),
    ("תשובה אוטומטית", "Hebrew"),
    ("מחוץ למשרד", "Hebrew"),
    ("رد تلقائي", "Arabic"),
    ("الرد التلقائي", "Arabic"),
    ("خارج المكتب", "Arabic"),
    ("پاسخ خودکار", "Persian"),
    ("自動応答", "Japanese"),
    ("自動返信", "Japanese"),
    ("不在", "Japanese"),
    ("不在通知", "Japanese"),
    ("自动回复", "Chinese"),
    ("自动答复", "Chinese"),
    ("自動回覆", "Chinese"),
    ("自動答覆", "Chinese"),
    ("自動回复", "Chinese"),
    ("자동 응답", "Korean"),
    ("자동 회신", "Korean"),
    ("부재중", "Korean"),
    ("Trả lời tự động", "Vietnamese"),
    ("ตอบกลับอัตโนมัติ", "Thai"),
    ("Balasan otomatis", "Indonesian"),
    ("Balasan automatik", "Malay"),
    ("स्वचालित उत्तर", "Hindi"),
];

/// The phrases lower-cased once, longest first (so that "Out of Office AutoReply" is named
/// rather than "Out of Office").
static LOWERED: LazyLock<Vec<(String, &'static str, &'static str)>> = LazyLock::new(|| {
    let mut phrases: Vec<_> = PHRASES
        .iter()
        .map(|&(phrase, language)| (phrase.to_lowercase(), phrase, language))
        .collect();
    phrases.sort_by_key(|(lowered, ..)| std::cmp::Reverse(lowered.len()));
    phrases
});

/// The rule an out-of-office subject matches, e.g. `subject: Abwesenheitsnotiz
/// (out-of-office, German)`; `None` for a subject a person may have written.
pub(crate) fn subject_rule(subject: &str) -> Option<String> {
    let subject = subject.trim().to_lowercase();
    LOWERED.iter().find_map(|(lowered, phrase, language)| {
        let rest = subject.strip_prefix(lowered.as_str())?;
        let after = rest.trim_start();
        let whole = after.chars().all(|c| matches!(c, '.' | '!'));
        let prefix = after.starts_with([':', '：']);
        (whole || prefix).then(|| format!("subject: {phrase} (out-of-office, {language})"))
    })
}

#[cfg(test)]
mod tests {
    use super::subject_rule;

    #[test]
    fn every_language_is_recognised_as_a_prefix_and_as_the_whole_subject() {
        for (subject, language) in [
            ("Automatic reply: Printer on fire", "English"),
            ("Out of Office: Printer on fire", "English"),
            ("Auto: Printer on fire", "English"),
            ("AutoReply: Printer on fire", "English"),
            ("Abwesenheitsnotiz: Drucker brennt", "German"),
            ("Automatische Antwort: Drucker brennt", "German"),
            ("Réponse automatique : Imprimante", "French"),
            ("Risposta automatica: Stampante", "Italian"),
            ("Fuori sede", "Italian"),
            ("Respuesta automática: Impresora", "Spanish"),
            ("Fuera de la oficina", "Spanish"),
            ("Resposta automática: Impressora", "Portuguese"),
            ("Ausente", "Portuguese"),
            ("Automatisch antwoord: Printer", "Dutch"),
            ("Afwezig", "Dutch"),
            ("Autosvar: Skrivare", "Swedish"),
            ("Frånvarande", "Swedish"),
            ("Fraværende", "Danish"),
            ("Fraværsmelding: Skriver", "Norwegian"),
            ("Automaattinen vastaus: Tulostin", "Finnish"),
            ("Poissa", "Finnish"),
            ("Automatyczna odpowiedź: Drukarka", "Polish"),
            ("Automatická odpověď: Tiskárna", "Czech"),
            ("Automatikus válasz: Nyomtató", "Hungarian"),
            ("Házon kívül", "Hungarian"),
            ("Автоматический ответ: Принтер", "Russian"),
            ("自動応答: プリンター", "Japanese"),
            ("不在", "Japanese"),
            ("自动回复：打印机", "Chinese"),
            ("自動回覆: 印表機", "Chinese"),
            ("자동 응답: 프린터", "Korean"),
            ("Otomatik yanıt: Yazıcı", "Turkish"),
            ("Αυτόματη απάντηση: Εκτυπωτής", "Greek"),
            ("Răspuns automat: Imprimantă", "Romanian"),
            ("תשובה אוטומטית: מדפסת", "Hebrew"),
            ("رد تلقائي: طابعة", "Arabic"),
            ("Automatski odgovor: Pisač", "Croatian"),
            ("Автоматичен отговор: Принтер", "Bulgarian"),
        ] {
            let rule = subject_rule(subject).unwrap_or_else(|| panic!("{subject}"));
            assert!(
                rule.ends_with(&format!("(out-of-office, {language})")),
                "{subject}: {rule}"
            );
        }
        assert_eq!(
            subject_rule("ABWESENHEITSNOTIZ").as_deref(),
            Some("subject: Abwesenheitsnotiz (out-of-office, German)")
        );
        assert_eq!(
            subject_rule("Out of Office AutoReply: x").as_deref(),
            Some("subject: Out of Office AutoReply (out-of-office, English)")
        );
        let languages: std::collections::BTreeSet<_> =
            super::PHRASES.iter().map(|(_, l)| l).collect();
        assert!(languages.len() >= 20, "{}", languages.len());
    }

    #[test]
    fn what_a_person_writes_is_no_out_of_office() {
        for subject in [
            "Out of office supplies",
            "Re: out of office party",
            "Absence of evidence",
            "Re: Automatic reply: Printer on fire",
            "Fwd: Abwesenheitsnotiz",
            "Automatic replies do not work",
            "Autosvaret fungerar inte",
            "Auto insurance claim",
            "Automobile",
            "Poissa olevat laskut",
            "Ausentes en la reunión",
            "不在籍証明の件",
            "My out of office is broken",
            "",
        ] {
            assert_eq!(subject_rule(subject), None, "{subject}");
        }
    }
}
