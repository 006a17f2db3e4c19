//! The automated accessibility audit of a page: axe-core (from npm, `make deps`) run in the
//! browser on what the page shows now. Only serious and critical violations fail a test;
//! the rest are for people to judge.

use serde_json::json;

use crate::webdriver::WebDriverSession;
use crate::workspace_root;

/// The serious and critical violations axe-core finds on the current page, one line each
/// (rule, what it asks, how many elements); empty when there are none.
pub async fn serious_violations(session: &WebDriverSession) -> anyhow::Result<Vec<String>> {
    // Loaded once per page: a window audited screen after screen (the counter app) keeps it.
    let present = session.execute("return typeof window.axe;", json!([])).await?;
    if present != "object" {
        let path = workspace_root().join("node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .map_err(|error| anyhow::anyhow!("{}: {error} (run `make deps`)", path.display()))?;
        // WebDriver's scripts are not the page's: its policy of no script does not stop them.
        let loaded = session.execute(&format!("{source}\nreturn typeof axe;"), json!([])).await?;
        anyhow::ensure!(loaded == "object", "axe-core did not load in the page: {loaded}");
    }
    let found = session
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {resultTypes: ['violations']})\
               .then(result => done(result.violations\
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                 .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ': ' +\
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')')))\
               .catch(error => done(['axe failed: ' + error]));",
            json!([]),
        )
        .await?;
    Ok(found
        .as_array()
        .map(|lines| lines.iter().filter_map(|line| line.as_str().map(str::to_owned)).collect())
        .unwrap_or_default())
}

/// Fails with the page's serious and critical violations, if any.
pub async fn assert_accessible(session: &WebDriverSession, page: &str) {
    let violations = serious_violations(session).await.expect("run axe-core");
    assert!(violations.is_empty(), "{page}: {violations:#?}");
}
