// deploy/kubernetes/: the manifests are validated against the Kubernetes API
// schemas (OpenAPI of Kubernetes 1.27, compiled into the kubernetes-models npm
// package: types, required fields, enums, formats; like `kubectl
// --validate=false` it does NOT reject unknown field names), rendered with
// `kubectl kustomize` where kubectl is installed (no cluster needed), checked
// for the cross-references a cluster would only reveal at run time (selectors,
// ports, volume names, namespace), and the pod's config file and probe
// command are run against a real vireo-server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ROOT, startVireo, freePort } from '../helpers/servers.mjs';
import { RawConn } from '../helpers/resp.mjs';

const run = promisify(execFile);
const K8S = join(ROOT, 'deploy', 'kubernetes');
const MODELS = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
};

/** Every manifest directory (one kustomization each) and its documents. */
function manifestSets() {
  return readdirSync(K8S, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = join(K8S, d.name);
      const kust = yaml.load(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
      const docs = kust.resources.flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), 'utf8')).filter(Boolean));
      return { name: d.name, dir, docs };
    });
}
const SETS = manifestSets();
const byKind = (docs, kind) => docs.filter((d) => d.kind === kind);

const tmp = mkdtempSync(join(tmpdir(), 'vireo-k8s-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('deploy/kubernetes has the standalone StatefulSet set', () => {
  assert.ok(SETS.some((s) => s.name === 'standalone'));
});

for (const set of SETS) {
  test(`${set.name}: every manifest validates against the Kubernetes 1.27 schema`, () => {
    assert.ok(set.docs.length >= 4);
    for (const doc of set.docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(Model, `a schema for ${doc.apiVersion} ${doc.kind}`);
      assert.doesNotThrow(() => new Model(doc).validate(), `${doc.kind} ${doc.metadata?.name}`);
    }
    // The validator is not a no-op: a broken StatefulSet is rejected.
    const ss = structuredClone(byKind(set.docs, 'StatefulSet')[0]);
    ss.spec.replicas = 'one';
    delete ss.spec.template.spec.containers[0].name;
    assert.throws(() => new StatefulSet(ss).validate(), /replicas must be integer|must have required property 'name'/);
  });

  test(`${set.name}: kubectl kustomize renders the same objects (no cluster needed)`, async (t) => {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20000 });
    } catch {
      t.skip('kubectl is not installed');
      return;
    }
    const { stdout } = await run('kubectl', ['kustomize', set.dir], { timeout: 60000 });
    const rendered = yaml.loadAll(stdout).filter(Boolean);
    const key = (d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
    assert.deepEqual(rendered.map(key).sort(), set.docs.map(key).sort());
    for (const d of rendered) assert.deepEqual(d, set.docs.find((x) => key(x) === key(d)));
  });
}

test('standalone: namespace, headless Service on 6379, StatefulSet with a PVC on /data and probes', () => {
  const { docs } = SETS.find((s) => s.name === 'standalone');
  const [ns] = byKind(docs, 'Namespace');
  const [svc] = byKind(docs, 'Service');
  const [ss] = byKind(docs, 'StatefulSet');
  const [cm] = byKind(docs, 'ConfigMap');
  for (const d of docs) if (d.kind !== 'Namespace') assert.equal(d.metadata.namespace, ns.metadata.name, `${d.kind} in the namespace`);
  // Headless Service, port 6379, selecting the StatefulSet's pods.
  assert.equal(svc.spec.clusterIP, 'None');
  assert.deepEqual(svc.spec.ports.map((p) => p.port), [6379]);
  const podLabels = ss.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v, `service selector ${k}`);
  for (const [k, v] of Object.entries(ss.spec.selector.matchLabels)) assert.equal(podLabels[k], v, `statefulset selector ${k}`);
  assert.equal(ss.spec.serviceName, svc.metadata.name);
  const [c] = ss.spec.template.spec.containers;
  assert.match(c.image, /^vireo:/);
  const port = c.ports.find((p) => p.containerPort === 6379);
  assert.ok(port);
  assert.equal(svc.spec.ports[0].targetPort, port.name);
  // The PVC template is mounted on /data.
  const [pvc] = ss.spec.volumeClaimTemplates;
  assert.equal(c.volumeMounts.find((m) => m.name === pvc.metadata.name)?.mountPath, '/data');
  assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
  // The config file the container gets is the ConfigMap's vireo.conf.
  const cfgVol = ss.spec.template.spec.volumes.find((v) => v.configMap?.name === cm.metadata.name);
  const cfgMount = c.volumeMounts.find((m) => m.name === cfgVol.name);
  assert.deepEqual(c.args, [`${cfgMount.mountPath}/vireo.conf`]);
  assert.ok(cm.data['vireo.conf']);
  // Probes: readiness PINGs with the image's HEALTHCHECK command; liveness checks the port.
  const hc = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  assert.deepEqual(c.readinessProbe.exec.command, JSON.parse(hc[1]));
  assert.equal(c.livenessProbe.tcpSocket.port, port.name);
  // Runs as the image's non-root user, with the volume group-writable for it.
  const sc = ss.spec.template.spec.securityContext;
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.runAsUser, 999);
  assert.equal(sc.fsGroup, 999);
});

test("standalone: the ConfigMap's vireo.conf and the readiness probe work on a real vireo-server", async () => {
  const { docs } = SETS.find((s) => s.name === 'standalone');
  const [cm] = byKind(docs, 'ConfigMap');
  const [ss] = byKind(docs, 'StatefulSet');
  const conf = join(tmp, 'vireo.conf');
  writeFileSync(conf, cm.data['vireo.conf']);
  // Every directive must be one Vireo implements (it refuses the others);
  // bind/port/dir are overridden for the test's loopback port and temp dir.
  const srv = await startVireo(['--dir', tmp], { configFile: conf });
  try {
    const c = await RawConn.connect(srv.port);
    assert.equal(await c.call('PING'), '+PONG\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'maxmemory'), '*2\r\n$9\r\nmaxmemory\r\n$9\r\n268435456\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'save'), '*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n');
    c.close();
    const [cmd, ...args] = ss.spec.template.spec.containers[0].readinessProbe.exec.command;
    await run(cmd, args, { env: { ...process.env, VIREO_HEALTHCHECK_PORT: String(srv.port) }, timeout: 10000 });
  } finally {
    await srv.stop();
  }
});

test('deploy/kubernetes has the replicated (primary + replicas) set', () => {
  const set = SETS.find((s) => s.name === 'replicated');
  assert.ok(set);
  const [ss] = byKind(set.docs, 'StatefulSet');
  assert.equal(ss.spec.replicas, 3);
  assert.equal(ss.spec.podManagementPolicy, 'OrderedReady');
  const services = byKind(set.docs, 'Service');
  const primary = services.find((s) => s.metadata.name === 'vireo-primary');
  assert.equal(primary.spec.selector['statefulset.kubernetes.io/pod-name'], `${ss.metadata.name}-0`);
  const headless = services.find((s) => s.spec.clusterIP === 'None');
  assert.equal(headless.metadata.name, ss.spec.serviceName);
});

test("replicated: start.sh makes pod 0 the primary and the others replicas; the config replicates on real servers", async () => {
  const { docs } = SETS.find((s) => s.name === 'replicated');
  const [cm] = byKind(docs, 'ConfigMap');
  const dir = mkdtempSync(join(tmp, 'repl-'));
  // start.sh ends in `exec docker-entrypoint.sh "$@"`: a stand-in on PATH prints the arguments.
  writeFileSync(join(dir, 'docker-entrypoint.sh'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
  writeFileSync(join(dir, 'start.sh'), cm.data['start.sh']);
  const argsFor = async (host) =>
    (await run('/bin/sh', [join(dir, 'start.sh')], { env: { ...process.env, HOSTNAME: host, PATH: `${dir}:${process.env.PATH}` } })).stdout.trim();
  assert.equal(await argsFor('vireo-0'), '/etc/vireo/vireo.conf');
  assert.equal(await argsFor('vireo-2'), '/etc/vireo/vireo.conf --replicaof vireo-0.vireo.vireo-replicated.svc.cluster.local 6379');
  // The same config on two real servers, the second started as start.sh starts a replica.
  const conf = join(dir, 'vireo.conf');
  writeFileSync(conf, cm.data['vireo.conf']);
  const d0 = mkdtempSync(join(dir, 'p-'));
  const d1 = mkdtempSync(join(dir, 'r-'));
  const p = await startVireo(['--dir', d0], { configFile: conf });
  const r = await startVireo(['--dir', d1, '--replicaof', '127.0.0.1', String(p.port)], { configFile: conf });
  try {
    const pc = await RawConn.connect(p.port);
    const rc = await RawConn.connect(r.port);
    assert.equal(await pc.call('SET', 'k8s', 'replicated'), '+OK\r\n');
    let got = '';
    for (let i = 0; i < 200 && got !== '$10\r\nreplicated\r\n'; i++) {
      await new Promise((res) => setTimeout(res, 25));
      got = await rc.call('GET', 'k8s');
    }
    assert.equal(got, '$10\r\nreplicated\r\n');
    assert.equal(await rc.call('SET', 'x', '1'), "-READONLY You can't write against a read only replica.\r\n");
    pc.close();
    rc.close();
  } finally {
    await r.stop();
    await p.stop();
  }
});

test('cluster: six pods, the bus port, a bootstrap Job; the config starts a cluster node that redis-cli can form a cluster with', async () => {
  const { docs } = SETS.find((s) => s.name === 'cluster');
  const [ss] = byKind(docs, 'StatefulSet');
  assert.equal(ss.spec.replicas, 6);
  const ports = ss.spec.template.spec.containers[0].ports.map((p) => p.containerPort).sort((a, b) => a - b);
  assert.deepEqual(ports, [6379, 16379]);
  const [job] = byKind(docs, 'Job');
  const script = job.spec.template.spec.containers[0].command.join(' ');
  assert.match(script, /--cluster create \$nodes --cluster-replicas 1 --cluster-yes/);
  assert.match(script, new RegExp(`${ss.metadata.name}-\\$i\\.${ss.spec.serviceName}\\.${ss.metadata.namespace}\\.svc`));
  const [cm] = byKind(docs, 'ConfigMap');
  const dir = mkdtempSync(join(tmp, 'cluster-'));
  writeFileSync(join(dir, 'docker-entrypoint.sh'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
  writeFileSync(join(dir, 'start.sh'), cm.data['start.sh']);
  const { stdout } = await run('/bin/sh', [join(dir, 'start.sh')], { env: { ...process.env, POD_IP: '10.1.2.3', PATH: `${dir}:${process.env.PATH}` } });
  assert.equal(stdout.trim(), '/etc/vireo/vireo.conf --cluster-announce-ip 10.1.2.3');
  // Three nodes with the ConfigMap's config (on loopback ports) form a cluster with redis-cli.
  const conf = join(dir, 'vireo.conf');
  writeFileSync(conf, cm.data['vireo.conf'].replace(/^cluster-node-timeout .*$/m, 'cluster-node-timeout 2000'));
  const nodes = [];
  try {
    for (let i = 0; i < 3; i++) {
      const d = mkdtempSync(join(dir, 'n-'));
      nodes.push(await startVireo(['--dir', d, '--cluster-port', String(await freePort()), '--cluster-announce-ip', '127.0.0.1'], { configFile: conf }));
    }
    const c = await RawConn.connect(nodes[0].port);
    assert.match(await c.call('CLUSTER', 'INFO'), /cluster_state:fail/);
    let cli;
    try {
      execFileSync('redis-cli', ['--version'], { stdio: 'ignore' });
      cli = true;
    } catch {
      cli = false;
    }
    if (cli) {
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'], { timeout: 60000 });
      let info = '';
      for (let i = 0; i < 100 && !/cluster_state:ok/.test(info); i++) {
        await new Promise((res) => setTimeout(res, 100));
        info = await c.call('CLUSTER', 'INFO');
      }
      assert.match(info, /cluster_state:ok/);
      assert.match(info, /cluster_known_nodes:3/);
    }
    c.close();
  } finally {
    for (const n of nodes) await n.stop();
  }
});
