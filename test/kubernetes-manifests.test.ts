// deploy/kubernetes/ validated offline against the Kubernetes API's schemas (kubernetes-models: the
// schemas of the API's OpenAPI document compiled into validators, shipped in the npm package), plus
// what the DaemonSet must do for criu-hotcache. No cluster runs here.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { DaemonSet, type IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { projectRoot } from '../tools/project.js';

const manifests = suite('kubernetes manifests');
const dir = path.join(projectRoot, 'deploy/kubernetes');

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string } };

function documents(): { file: string; doc: Doc }[] {
	const out: { file: string; doc: Doc }[] = [];
	for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
		for (const parsed of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
			assert.equal(parsed.errors, [], `${file}: YAML errors`);
			out.push({ file, doc: parsed.toJS() as Doc });
		}
	}
	return out;
}

/** Throws with the schema's messages when the object does not validate. */
function validate(doc: Doc): void {
	const kinds: Record<string, (d: Doc) => { validate(): void }> = {
		'v1/Namespace': (d) => new Namespace(d as never),
		'apps/v1/DaemonSet': (d) => new DaemonSet(d as never),
	};
	const make = kinds[`${doc.apiVersion}/${doc.kind}`];
	if (!make) throw new Error(`no schema here for ${doc.apiVersion} ${doc.kind}`);
	make(doc).validate();
}

manifests('every document validates against the Kubernetes schemas', () => {
	const docs = documents();
	assert.ok(docs.length >= 2, 'a Namespace and a DaemonSet');
	for (const { file, doc } of docs) {
		try {
			validate(doc);
		} catch (err) {
			assert.unreachable(`${file}: ${doc.kind} ${doc.metadata?.name}: ${(err as Error).message}`);
		}
	}
});

manifests('the validator rejects a broken DaemonSet (wrong types, missing selector)', () => {
	const ds = documents().find((d) => d.doc.kind === 'DaemonSet')!.doc as IDaemonSet;
	const broken = structuredClone(ds) as unknown as { spec: { selector?: unknown; template: { spec: { containers: { securityContext: { privileged: unknown } }[] } } } };
	delete broken.spec.selector;
	broken.spec.template.spec.containers[0]!.securityContext.privileged = 'yes';
	assert.throws(() => validate(broken as Doc), /selector|privileged must be boolean/);
});

manifests('the DaemonSet runs the installer privileged, with the node root at /host, and uninstalls when stopped', () => {
	const ds = documents().find((d) => d.doc.kind === 'DaemonSet')!.doc as IDaemonSet;
	const pod = ds.spec!.template.spec!;
	const container = pod.containers[0]!;
	assert.equal(container.args, ['daemon'], 'deploy/installer.sh daemon: install, wait, uninstall on SIGTERM');
	assert.ok(container.securityContext?.privileged);
	const mount = container.volumeMounts?.find((m) => m.mountPath === '/host');
	const volume = pod.volumes?.find((v) => v.name === mount?.name);
	assert.is(volume?.hostPath?.path, '/');
	assert.ok(container.env?.some((e) => e.name === 'HOST_ROOT' && e.value === '/host'));
	assert.ok(pod.tolerations?.some((t) => t.operator === 'Exists'), 'on every node');
	const version = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
	assert.match(container.image ?? '', new RegExp(`criu-hotcache-installer:${version.replace(/\./g, '\\.')}$`));
	const installer = readFileSync(path.join(projectRoot, 'deploy/installer.sh'), 'utf8');
	assert.match(installer, /^daemon\)$/m);
	assert.match(installer, /trap 'uninstall; exit 0' TERM INT/);
});

manifests.run();
