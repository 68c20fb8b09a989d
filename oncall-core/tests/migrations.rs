//! The two migration folders must describe the same schema: same tables, same
//! columns, same nullability. Applies both to real databases and compares.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::collections::BTreeMap;

use sqlx::Row;

type Schema = BTreeMap<String, Vec<(String, bool)>>;

#[tokio::test]
async fn sqlite_and_mysql_migrations_yield_the_same_schema() {
    let lite = support::fresh_sqlite().await.unwrap();
    let Some(my) = support::fresh_mysql().await else {
        return;
    };

    let pool = lite.sqlite.as_ref().unwrap().pool();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut sqlite_schema = Schema::new();
    for t in tables {
        let rows = sqlx::query(
            "SELECT name, \"notnull\" AS nn, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&t)
        .fetch_all(pool)
        .await
        .unwrap();
        let cols = rows
            .iter()
            .map(|r| {
                let not_null = r.get::<i64, _>("nn") == 1 || r.get::<i64, _>("pk") > 0;
                (r.get::<String, _>("name"), !not_null)
            })
            .collect();
        sqlite_schema.insert(t, cols);
    }

    let rows = sqlx::query(
        "SELECT CAST(table_name AS CHAR) AS t, CAST(column_name AS CHAR) AS c, \
         CAST(is_nullable AS CHAR) AS n FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(my.mysql.as_ref().unwrap().pool())
    .await
    .unwrap();
    let mut mysql_schema = Schema::new();
    for r in rows {
        mysql_schema
            .entry(r.get("t"))
            .or_default()
            .push((r.get("c"), r.get::<String, _>("n") == "YES"));
    }

    assert!(sqlite_schema.contains_key("tickets"), "{sqlite_schema:?}");
    assert_eq!(
        sqlite_schema, mysql_schema,
        "migrations/sqlite and migrations/mysql drifted"
    );

    // Both folders hold the same migration versions.
    let names = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    assert_eq!(
        names(&format!("{root}/sqlite")),
        names(&format!("{root}/mysql"))
    );

    lite.finish().await;
    my.finish().await;
}
