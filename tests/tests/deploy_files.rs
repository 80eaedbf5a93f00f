//! Checks of the files in deploy/: the Prometheus configs and alert rules through the real `promtool` (config,
//! rules, rule unit tests, the dashboard's PromQL), YAML/JSON parsing of the docker-compose, Kubernetes and
//! Grafana files, and that every metric they use is a name from `schemas/src/metrics.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use clipstream_tests::{repo_root, run_ok};
use serde::Deserialize;
use serde_yaml_ng::Value;

fn deploy() -> PathBuf {
    repo_root().join("deploy")
}

/// `promtool` from the Debian `prometheus` package (`$CLIPSTREAM_PROMTOOL` overrides). A missing promtool is a
/// failure, not a skip: these checks are the only validation the Prometheus files get.
fn promtool() -> Command {
    let path = std::env::var_os("CLIPSTREAM_PROMTOOL").map(PathBuf::from).or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).map(|dir| dir.join("promtool")).find(|candidate| candidate.is_file())
    });
    match path {
        Some(path) => Command::new(path),
        None => {
            panic!("promtool is missing: run deploy/local/install (scripts/test does) to install Debian's prometheus")
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Every YAML document of `text`, with `<<` merge keys applied (nested merges too).
fn yaml_documents(text: &str, origin: &Path) -> anyhow::Result<Vec<Value>> {
    let mut documents = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let mut value =
            Value::deserialize(document).with_context(|| format!("{} is not valid YAML", origin.display()))?;
        // A merged mapping may itself hold a `<<` key; apply_merge handles one level per pass.
        for _ in 0..8 {
            value.apply_merge().with_context(|| format!("merge keys in {}", origin.display()))?;
        }
        ensure!(!has_merge_key(&value), "{}: merge keys nested too deeply", origin.display());
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

fn has_merge_key(value: &Value) -> bool {
    match value {
        Value::Mapping(mapping) => mapping.contains_key("<<") || mapping.values().any(has_merge_key),
        Value::Sequence(items) => items.iter().any(has_merge_key),
        _ => false,
    }
}

fn yaml_file(path: &Path) -> anyhow::Result<Value> {
    let mut documents = yaml_documents(&read(path)?, path)?;
    ensure!(documents.len() == 1, "{} should hold one YAML document, has {}", path.display(), documents.len());
    Ok(documents.remove(0))
}

fn str_of<'a>(value: &'a Value, what: &str) -> anyhow::Result<&'a str> {
    value.as_str().with_context(|| format!("{what} is not a string: {value:?}"))
}

/// The metric names declared in schemas/src/metrics.rs (`pub const NAME: &str = "clipstream_...";`).
fn schema_metric_names() -> anyhow::Result<BTreeSet<String>> {
    let text = read(&repo_root().join("schemas/src/metrics.rs"))?;
    let names: BTreeSet<String> = text
        .lines()
        .filter(|line| line.trim_start().starts_with("pub const ") && line.contains(": &str"))
        .filter_map(|line| line.split('"').nth(1).map(str::to_string))
        .collect();
    // The parse agrees with the crate itself.
    for constant in [
        clipstream_schemas::metrics::STAGE_ITEMS_IN_TOTAL,
        clipstream_schemas::metrics::STAGE_LATENCY_SECONDS,
        clipstream_schemas::metrics::KAFKA_CONSUMER_LAG,
        clipstream_schemas::metrics::DLQ_MESSAGES_TOTAL,
    ] {
        ensure!(names.contains(constant), "parsing metrics.rs missed {constant}: {names:?}");
    }
    Ok(names)
}

/// `clipstream_*` identifiers in a PromQL expression.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|token| token.starts_with("clipstream_"))
        .map(str::to_string)
        .collect()
}

/// The schema metric a series name belongs to: itself, or the histogram of a `_bucket` / `_sum` / `_count` series.
fn schema_metric<'a>(name: &'a str, schema: &BTreeSet<String>) -> Option<&'a str> {
    if schema.contains(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .find(|base| schema.contains(*base) && (base.ends_with("_seconds") || base.ends_with("_size")))
}

fn alert_rules() -> anyhow::Result<Vec<(String, String)>> {
    let path = deploy().join("prometheus/alerts.yml");
    let rules = yaml_file(&path)?;
    let mut out = Vec::new();
    for group in rules["groups"].as_sequence().context("alerts.yml has no groups")? {
        for rule in group["rules"].as_sequence().context("a rule group has no rules")? {
            out.push((
                str_of(&rule["alert"], "alert name")?.to_string(),
                str_of(&rule["expr"], "alert expr")?.to_string(),
            ));
        }
    }
    Ok(out)
}

fn dashboard() -> anyhow::Result<serde_json::Value> {
    let path = deploy().join("grafana/dashboards/clipstream.json");
    serde_json::from_str(&read(&path)?).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// Every panel of the dashboard (rows' nested panels included) as (title, PromQL expressions).
fn dashboard_queries(dashboard: &serde_json::Value) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    fn walk(panels: &[serde_json::Value], out: &mut Vec<(String, Vec<String>)>) {
        for panel in panels {
            let title = panel["title"].as_str().unwrap_or("(untitled)").to_string();
            if let Some(targets) = panel["targets"].as_array() {
                let exprs = targets.iter().filter_map(|t| t["expr"].as_str().map(str::to_string)).collect();
                out.push((title, exprs));
            }
            if let Some(nested) = panel["panels"].as_array() {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dashboard["panels"].as_array().context("dashboard has no panels")?, &mut out);
    Ok(out)
}

#[test]
fn promtool_accepts_the_prometheus_config_and_its_rules() -> anyhow::Result<()> {
    let dir = deploy().join("prometheus");
    let out = run_ok(promtool().current_dir(&dir).args(["check", "config", "prometheus.yml"]))?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(text.contains("1 rule files found"), "prometheus.yml should load alerts.yml:\n{text}");
    run_ok(promtool().current_dir(&dir).args(["check", "rules", "alerts.yml"]))?;
    Ok(())
}

#[test]
fn promtool_unit_tests_of_the_alert_rules_pass() -> anyhow::Result<()> {
    let dir = deploy().join("prometheus");
    run_ok(promtool().current_dir(&dir).args(["test", "rules", "alerts_test.yml"]))?;
    // Every alert has a unit test.
    let tests = read(&dir.join("alerts_test.yml"))?;
    for (alert, _) in alert_rules()? {
        ensure!(tests.contains(&format!("alertname: {alert}")), "alerts_test.yml has no test of {alert}");
    }
    Ok(())
}

#[test]
fn alerts_and_dashboard_use_only_schema_metric_names() -> anyhow::Result<()> {
    let schema = schema_metric_names()?;
    let mut problems = Vec::new();
    for (alert, expr) in alert_rules()? {
        let used = metrics_in(&expr);
        if used.is_empty() && !expr.contains("up{") {
            problems.push(format!("alert {alert} uses no clipstream metric: {expr}"));
        }
        for name in used.iter().filter(|name| schema_metric(name, &schema).is_none()) {
            problems.push(format!("alert {alert} uses {name}, which is not in schemas/src/metrics.rs"));
        }
    }
    let dashboard = dashboard()?;
    let mut on_dashboard = BTreeSet::new();
    for (title, exprs) in dashboard_queries(&dashboard)? {
        ensure!(!exprs.is_empty(), "dashboard panel {title:?} has no query");
        for expr in exprs {
            let used = metrics_in(&expr);
            if used.is_empty() && !expr.contains("up{") {
                problems.push(format!("panel {title:?} uses no clipstream metric: {expr}"));
            }
            for name in &used {
                if let Some(metric) = schema_metric(name, &schema) {
                    on_dashboard.insert(metric.to_string());
                } else {
                    problems.push(format!("panel {title:?} uses {name}, which is not in schemas/src/metrics.rs"));
                }
            }
        }
    }
    for name in schema.iter().filter(|name| !on_dashboard.contains(name.as_str())) {
        problems
            .push(format!("{name} (schemas/src/metrics.rs) has no panel in deploy/grafana/dashboards/clipstream.json"));
    }
    ensure!(problems.is_empty(), "metric names out of step with schemas/src/metrics.rs:\n  {}", problems.join("\n  "));
    Ok(())
}

#[test]
fn dashboard_queries_are_valid_promql() -> anyhow::Result<()> {
    // promtool parses PromQL only inside rule files: each dashboard query becomes a recording rule, with
    // Grafana's variables replaced by what they expand to.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let dashboard = dashboard()?;
    let mut count = 0;
    for (_, exprs) in dashboard_queries(&dashboard)? {
        for expr in exprs {
            let expanded = expr.replace("$__rate_interval", "1m").replace("$instance", ".*");
            count += 1;
            rules.push_str(&format!(
                "      - record: dashboard:query_{count}\n        expr: {}\n",
                serde_json::to_string(&expanded)?
            ));
        }
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dashboard_rules.yml");
    fs::write(&path, rules)?;
    let out = run_ok(promtool().args(["check", "rules"]).arg(&path))?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(text.contains(&format!("{count} rules found")), "promtool did not check every query:\n{text}");
    Ok(())
}

#[test]
fn grafana_provisioning_matches_the_dashboard() -> anyhow::Result<()> {
    let datasources = yaml_file(&deploy().join("grafana/provisioning/datasources/prometheus.yml"))?;
    let datasource = &datasources["datasources"][0];
    ensure!(str_of(&datasource["type"], "datasource type")? == "prometheus", "datasource is not Prometheus");
    let uid = str_of(&datasource["uid"], "datasource uid")?;
    let dashboards = yaml_file(&deploy().join("grafana/provisioning/dashboards/clipstream.yml"))?;
    let dashboard_path = str_of(&dashboards["providers"][0]["options"]["path"], "dashboard provider path")?;

    let dashboard = dashboard()?;
    ensure!(dashboard["uid"].is_string() && dashboard["title"].is_string(), "dashboard needs a uid and a title");
    let panels = dashboard["panels"].as_array().context("dashboard has no panels")?;
    for panel in panels.iter().filter(|panel| panel["type"] != "row") {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        ensure!(panel["datasource"]["uid"] == uid, "panel {title:?} does not use the provisioned datasource {uid}");
        ensure!(panel["gridPos"]["w"].is_u64() && panel["gridPos"]["h"].is_u64(), "panel {title:?} has no gridPos");
    }

    // docker-compose mounts the provisioning and the dashboards where the provider looks.
    let compose = yaml_file(&deploy().join("docker-compose.yml"))?;
    let volumes: Vec<&str> = compose["services"]["grafana"]["volumes"]
        .as_sequence()
        .context("grafana has no volumes")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    ensure!(volumes.contains(&"./grafana/provisioning:/etc/grafana/provisioning:ro"), "grafana volumes: {volumes:?}");
    ensure!(
        volumes.iter().any(|v| v.starts_with("./grafana/dashboards:") && v.contains(&format!(":{dashboard_path}"))),
        "grafana does not mount deploy/grafana/dashboards at {dashboard_path}: {volumes:?}"
    );
    Ok(())
}

/// Every host path bind-mounted by a compose service exists (relative to deploy/).
fn check_bind_mounts(name: &str, service: &Value) -> anyhow::Result<()> {
    for volume in service["volumes"].as_sequence().into_iter().flatten().filter_map(Value::as_str) {
        if let Some(host) = volume.split(':').next().filter(|host| host.starts_with('.')) {
            ensure!(deploy().join(host).exists(), "service {name} mounts {host}, which does not exist in deploy/");
        }
    }
    Ok(())
}

/// `CLIPSTREAM__SECTION__KEY` variables of `env` are accepted by the real config loader.
fn check_config_env(what: &str, env: &Value) -> anyhow::Result<()> {
    let pairs: Vec<(String, String)> = env
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .filter(|(k, _)| k.starts_with("CLIPSTREAM__"))
        .collect();
    clipstream_schemas::config::load(None, pairs, &[]).with_context(|| format!("config variables of {what}"))?;
    Ok(())
}

#[test]
fn compose_file_has_the_production_stack() -> anyhow::Result<()> {
    let path = deploy().join("docker-compose.yml");
    let compose = yaml_file(&path)?;
    let services = compose["services"].as_mapping().context("docker-compose.yml has no services")?;
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    for needed in ["kafka", "kafka-init", "minio", "minio-init", "prometheus", "grafana", "trainer", "curate-0"] {
        ensure!(names.contains(needed), "docker-compose.yml has no service {needed}: {names:?}");
    }
    for (name, service) in services {
        check_bind_mounts(str_of(name, "service name")?, service)?;
    }

    let kafka = &compose["services"]["kafka"];
    ensure!(str_of(&kafka["image"], "kafka image")?.starts_with("apache/kafka:"), "kafka is not Apache Kafka");
    let roles = str_of(&kafka["environment"]["KAFKA_PROCESS_ROLES"], "KAFKA_PROCESS_ROLES")?;
    ensure!(roles.contains("controller"), "kafka is not in KRaft mode (KAFKA_PROCESS_ROLES={roles})");
    let init = format!("{:?}", compose["services"]["kafka-init"]["command"]);
    for topic in ["clipstream.videos ", "clipstream.videos.dlq "] {
        ensure!(init.contains(&format!("--topic {topic}")), "kafka-init does not create {topic}");
    }
    ensure!(str_of(&compose["services"]["minio"]["image"], "minio image")?.starts_with("minio/minio:"), "minio image");
    ensure!(
        format!("{:?}", compose["services"]["minio-init"]["command"]).contains("mc mb"),
        "minio-init makes no bucket"
    );
    let trainer = &compose["services"]["trainer"];
    ensure!(trainer["profiles"].as_sequence().is_some_and(|p| !p.is_empty()), "trainer should be profile-gated");
    ensure!(str_of(&trainer["command"][0], "trainer command")? == "train", "trainer does not run `clipstream train`");
    check_config_env("trainer", &trainer["environment"])?;
    // Two data-parallel trainer ranks: one profile, ranks 0 and 1 of WORLD_SIZE 2, meeting at rank 0's hostname.
    let ranks = ["trainer-rank-0", "trainer-rank-1"].map(|name| &compose["services"][name]);
    for (rank, service) in ranks.iter().enumerate() {
        let env = &service["environment"];
        ensure!(service["profiles"] == ranks[0]["profiles"] && service["profiles"].is_sequence(), "one profile");
        ensure!(env["RANK"].as_str() == Some(&rank.to_string()), "trainer-rank-{rank}: RANK");
        ensure!(env["WORLD_SIZE"].as_str() == Some("2"), "trainer-rank-{rank}: WORLD_SIZE");
        ensure!(env["MASTER_ADDR"].as_str() == Some("trainer-rank-0"), "trainer-rank-{rank}: MASTER_ADDR");
        ensure!(str_of(&service["command"][0], "command")? == "train", "trainer-rank-{rank} does not train");
        check_config_env("trainer rank", env)?;
    }
    ensure!(str_of(&ranks[0]["hostname"], "hostname")? == "trainer-rank-0", "rank 0's hostname");

    // The curate services form one timely cluster: their hosts, indices and metrics targets agree.
    let curate: Vec<&str> = names.iter().copied().filter(|name| name.starts_with("curate-")).collect();
    let expected_hosts: Vec<String> = (0..curate.len()).map(|i| format!("curate-{i}:2101")).collect();
    for (index, name) in curate.iter().enumerate() {
        let service = &compose["services"][*name];
        ensure!(*name == format!("curate-{index}"), "curate services should be curate-0..curate-{}", curate.len() - 1);
        ensure!(str_of(&service["hostname"], "hostname")? == *name, "{name}: hostname should be {name}");
        let command: Vec<&str> =
            service["command"].as_sequence().context("curate command")?.iter().filter_map(Value::as_str).collect();
        ensure!(
            command.first() == Some(&"curate") && command.contains(&"--source=kafka"),
            "{name} command: {command:?}"
        );
        ensure!(
            service["entrypoint"][0].as_str() == Some("clipstream-cluster"),
            "{name} does not start as a cluster process"
        );
        let env = &service["environment"];
        let hosts = str_of(&env["CLIPSTREAM_CLUSTER_HOSTS"], "CLIPSTREAM_CLUSTER_HOSTS")?;
        ensure!(hosts.split(',').eq(expected_hosts.iter().map(String::as_str)), "{name}: cluster hosts {hosts}");
        ensure!(
            str_of(&env["CLIPSTREAM_CLUSTER_INDEX"], "CLIPSTREAM_CLUSTER_INDEX")? == index.to_string(),
            "{name} index"
        );
        for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT", "AWS_REGION"] {
            ensure!(env[key].is_string(), "{name} has no {key}");
        }
        check_config_env(name, env)?;
    }
    let prometheus = yaml_file(&deploy().join("prometheus/prometheus.yml"))?;
    let job = prometheus["scrape_configs"]
        .as_sequence()
        .context("prometheus.yml has no scrape_configs")?
        .iter()
        .find(|job| job["job_name"] == "clipstream")
        .context("prometheus.yml has no clipstream job")?;
    let targets: Vec<&str> = job["static_configs"][0]["targets"]
        .as_sequence()
        .context("targets")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected_targets: Vec<String> = curate.iter().map(|name| format!("{name}:9898")).collect();
    ensure!(targets == expected_targets, "prometheus.yml scrapes {targets:?}, compose runs {expected_targets:?}");
    let volumes = format!("{:?}", compose["services"]["prometheus"]["volumes"]);
    for file in ["./prometheus/prometheus.yml:", "./prometheus/alerts.yml:"] {
        ensure!(volumes.contains(file), "prometheus does not mount {file}");
    }
    Ok(())
}

/// Every Kubernetes object in deploy/k8s (all files, all documents), with the file it came from.
fn k8s_objects() -> anyhow::Result<Vec<(PathBuf, Value)>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(&deploy().join("k8s"), &mut files)?;
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        for document in yaml_documents(&read(&file)?, &file)? {
            objects.push((file.clone(), document));
        }
    }
    Ok(objects)
}

fn container<'a>(pod_spec: &'a Value, name: &str) -> anyhow::Result<&'a Value> {
    pod_spec["containers"]
        .as_sequence()
        .and_then(|containers| containers.iter().find(|c| c["name"] == name))
        .with_context(|| format!("no container {name}"))
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"].as_sequence()?.iter().find(|e| e["name"] == name)
}

fn requests_gpu(container: &Value) -> bool {
    ["requests", "limits"].iter().all(|kind| container["resources"][*kind]["nvidia.com/gpu"].as_str() == Some("1"))
}

#[test]
fn kubernetes_manifests_form_a_timely_cluster_with_secret_references() -> anyhow::Result<()> {
    let objects = k8s_objects()?;
    // Kustomizations: what they list exists; their patches are partial objects, checked apart from the rest.
    let mut patches = BTreeSet::new();
    for (file, object) in objects.iter().filter(|(_, object)| object["kind"] == "Kustomization") {
        let dir = file.parent().context("kustomization dir")?;
        for key in ["resources", "patches"] {
            for entry in object[key].as_sequence().into_iter().flatten() {
                let rel = entry.as_str().or_else(|| entry["path"].as_str()).context("kustomization entry")?;
                ensure!(dir.join(rel).exists(), "{} lists {rel}, which does not exist", file.display());
                if key == "patches" {
                    patches.insert(dir.join(rel));
                }
            }
        }
    }
    let mut by_kind: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for (file, object) in &objects {
        let kind = str_of(&object["kind"], "kind").with_context(|| file.display().to_string())?;
        ensure!(object["apiVersion"].is_string(), "{}: a {kind} without apiVersion", file.display());
        if kind == "Kustomization" || patches.contains(file) {
            continue;
        }
        let name = str_of(&object["metadata"]["name"], "metadata.name").with_context(|| file.display().to_string())?;
        // Credentials are referenced, never shipped.
        ensure!(
            kind != "Secret",
            "{}: Secret {name} with values in the repository; reference it instead",
            file.display()
        );
        let previous = by_kind.insert((kind.to_string(), name.to_string()), object);
        ensure!(previous.is_none(), "{}: a second {kind} {name}", file.display());
    }
    let get = |kind: &str, name: &str| {
        by_kind
            .get(&(kind.to_string(), name.to_string()))
            .copied()
            .with_context(|| format!("no {kind} {name} in deploy/k8s"))
    };

    let statefulset = get("StatefulSet", "curate")?;
    let service_name = str_of(&statefulset["spec"]["serviceName"], "serviceName")?;
    let service = get("Service", service_name)?;
    ensure!(service["spec"]["clusterIP"].as_str() == Some("None"), "Service {service_name} is not headless");
    ensure!(service["spec"]["publishNotReadyAddresses"] == true, "timely peers need DNS before readiness");
    let namespace = str_of(&statefulset["metadata"]["namespace"], "namespace")?;
    get("Namespace", namespace)?;
    let replicas = statefulset["spec"]["replicas"].as_u64().context("replicas")?;
    let pod = &statefulset["spec"]["template"]["spec"];
    let curate = container(pod, "curate")?;
    ensure!(curate["command"][0].as_str() == Some("clipstream-cluster"), "curate does not start as a cluster process");
    let size = env_value(curate, "CLIPSTREAM_CLUSTER_SIZE").context("CLIPSTREAM_CLUSTER_SIZE")?;
    ensure!(
        size["value"].as_str() == Some(replicas.to_string().as_str()),
        "cluster size {size:?} != replicas {replicas}"
    );
    let pattern =
        str_of(&env_value(curate, "CLIPSTREAM_CLUSTER_HOST_PATTERN").context("host pattern")?["value"], "pattern")?;
    let stable_dns =
        format!("{}-{{i}}.{service_name}.{namespace}.svc", str_of(&statefulset["metadata"]["name"], "name")?);
    ensure!(pattern.starts_with(&stable_dns), "host pattern {pattern} is not the StatefulSet's DNS name {stable_dns}");
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let var = env_value(curate, key).with_context(|| format!("curate has no {key}"))?;
        ensure!(var["valueFrom"]["secretKeyRef"]["name"].is_string(), "{key} is not a Secret reference");
    }

    // The config file in the ConfigMap is accepted by the real loader.
    let config = get("ConfigMap", "clipstream-config")?;
    let toml = str_of(&config["data"]["curate.toml"], "curate.toml")?;
    let loaded = clipstream_schemas::config::load(Some(toml), Vec::new(), &[]).context("deploy/k8s curate.toml")?;
    ensure!(loaded.metrics.listen.starts_with("0.0.0.0:"), "metrics must listen beyond the pod's loopback");
    let port = loaded.metrics.listen.rsplit(':').next().unwrap_or_default().to_string();
    let annotations = &statefulset["spec"]["template"]["metadata"]["annotations"];
    ensure!(annotations["prometheus.io/scrape"] == "true", "curate pods are not annotated for scraping");
    ensure!(annotations["prometheus.io/port"].as_str() == Some(port.as_str()), "scrape port != metrics.listen port");

    // GPU variant and trainer Job ask for a GPU on GPU nodes.
    let (_, gpu) = objects
        .iter()
        .find(|(file, object)| patches.contains(file) && object["kind"] == "StatefulSet")
        .context("deploy/k8s/gpu/curate-gpu.yaml patches no StatefulSet")?;
    ensure!(gpu["spec"]["template"]["spec"]["nodeSelector"].is_mapping(), "GPU patch has no nodeSelector");
    ensure!(
        requests_gpu(container(&gpu["spec"]["template"]["spec"], "curate")?),
        "GPU patch asks for no nvidia.com/gpu"
    );
    let trainer = get("Job", "train")?;
    let trainer_pod = &trainer["spec"]["template"]["spec"];
    ensure!(trainer_pod["nodeSelector"].is_mapping(), "trainer Job has no nodeSelector");
    ensure!(requests_gpu(container(trainer_pod, "train")?), "trainer Job asks for no nvidia.com/gpu");

    // The data-parallel trainer: pod i of an Indexed Job is rank i of WORLD_SIZE = completions = parallelism, and
    // rank 0 is reachable through the headless Service its pods are a subdomain of.
    let ddp = get("Job", "train-ddp")?;
    let spec = &ddp["spec"];
    ensure!(spec["completionMode"] == "Indexed", "train-ddp is not an Indexed Job");
    let pod = &spec["template"]["spec"];
    let train = container(pod, "train")?;
    ensure!(requests_gpu(train), "train-ddp asks for no nvidia.com/gpu");
    let world = env_value(train, "WORLD_SIZE").and_then(|e| e["value"].as_str()).context("WORLD_SIZE")?;
    for key in ["completions", "parallelism"] {
        ensure!(spec[key].as_u64().map(|n| n.to_string()).as_deref() == Some(world), "{key} != WORLD_SIZE {world}");
    }
    let rank = env_value(train, "RANK").context("RANK")?;
    ensure!(
        rank["valueFrom"]["fieldRef"]["fieldPath"].as_str().is_some_and(|p| p.contains("job-completion-index")),
        "RANK is not the completion index"
    );
    let subdomain = str_of(&pod["subdomain"], "train-ddp subdomain")?;
    let service = get("Service", subdomain)?;
    ensure!(service["spec"]["clusterIP"] == "None", "Service {subdomain} is not headless");
    ensure!(service["spec"]["selector"]["job-name"] == "train-ddp", "Service {subdomain} selects other pods");
    let master = env_value(train, "MASTER_ADDR").and_then(|e| e["value"].as_str()).context("MASTER_ADDR")?;
    ensure!(master == format!("train-ddp-0.{subdomain}"), "MASTER_ADDR {master} is not rank 0's pod");
    Ok(())
}

#[test]
fn kubernetes_prometheus_config_passes_promtool() -> anyhow::Result<()> {
    let objects = k8s_objects()?;
    let (_, config) = objects
        .iter()
        .find(|(_, object)| object["kind"] == "ConfigMap" && object["metadata"]["name"] == "prometheus-config")
        .context("deploy/k8s has no ConfigMap prometheus-config")?;
    // Laid out as mounted in the pod: config/prometheus.yml and rules/alerts.yml (the prometheus-rules ConfigMap,
    // made from deploy/prometheus/alerts.yml).
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("config"))?;
    fs::create_dir(dir.path().join("rules"))?;
    let text = str_of(&config["data"]["prometheus.yml"], "prometheus.yml")?;
    fs::write(dir.path().join("config/prometheus.yml"), text)?;
    fs::copy(deploy().join("prometheus/alerts.yml"), dir.path().join("rules/alerts.yml"))?;
    let out = run_ok(promtool().current_dir(dir.path()).args(["check", "config", "config/prometheus.yml"]))?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(text.contains("1 rule files found"), "the k8s Prometheus config does not load the rules:\n{text}");
    Ok(())
}

#[test]
fn deploy_scripts_are_valid_bash() -> anyhow::Result<()> {
    let mut scripts: Vec<PathBuf> =
        fs::read_dir(deploy().join("local"))?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    scripts.push(deploy().join("docker/clipstream-cluster"));
    ensure!(scripts.len() >= 8, "deploy/local is missing scripts: {scripts:?}");
    for script in scripts {
        let text = read(&script)?;
        if !text.starts_with("#!") {
            ensure!(script.extension().is_some_and(|ext| ext == "sh"), "{} has no shebang", script.display());
        } else if !text.contains("set -euo pipefail") {
            bail!("{} does not `set -euo pipefail`", script.display());
        } else {
            let mode = fs::metadata(&script)?.permissions().mode();
            ensure!(mode & 0o111 != 0, "{} is not executable (chmod +x, and commit the mode)", script.display());
        }
        run_ok(Command::new("bash").arg("-n").arg(&script))?;
    }
    Ok(())
}
