// How the source reaches the destination: a command whose stdin and stdout carry the protocol.
//   ssh:[user@]host[:port]   ssh [-p port] [user@]host -- AGENT
//   exec:COMMAND...          /bin/sh -c 'COMMAND AGENT' (nsenter -t PID -m --, ip netns exec NAME,
//                            kubectl exec -i POD --, ...)
// AGENT is the agent's command line (by default this checkout's or installation's `hotcache receive`
// run by `node`), quoted for the shell that runs it on the far side.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { shellQuote } from '../shell-quote.js';

export type Destination = { kind: 'ssh'; user: string | null; host: string; port: number | null } | { kind: 'exec'; command: string };

export class DestinationError extends Error {
	override name = 'DestinationError';
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseDestination(text: string): Destination {
	if (text.startsWith('exec:')) {
		const command = text.slice('exec:'.length).trim();
		if (!command) throw new DestinationError('exec: needs a command');
		return { kind: 'exec', command };
	}
	if (text.startsWith('ssh:')) {
		const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text.slice('ssh:'.length));
		if (!m) throw new DestinationError(`${JSON.stringify(text)} is not ssh:[user@]host[:port]`);
		const [, user, host, port] = m;
		if (user !== undefined && !USER.test(user)) throw new DestinationError(`${JSON.stringify(user)} is not a user name`);
		if (!HOST.test(host!)) throw new DestinationError(`${JSON.stringify(host)} is not a host name or address`);
		const portNumber = port === undefined ? null : Number(port);
		if (portNumber !== null && (portNumber < 1 || portNumber > 65535)) throw new DestinationError(`port ${port} is out of range`);
		return { kind: 'ssh', user: user ?? null, host: host!, port: portNumber };
	}
	throw new DestinationError(`${JSON.stringify(text)} is neither ssh:[user@]host[:port] nor exec:COMMAND`);
}

export function describeDestination(d: Destination): string {
	return d.kind === 'exec' ? `exec:${d.command}` : `ssh:${d.user ? `${d.user}@` : ''}${d.host}${d.port ? `:${d.port}` : ''}`;
}

/** The agent as the far side runs it: Node and the same installation's hotcache, `receive`. */
export function defaultAgent(): string[] {
	return ['node', path.join(projectRoot, 'tools/hotcache.js'), 'receive'];
}

export function agentCommand(d: Destination, agent: string[]): { file: string; args: string[] } {
	const remote = agent.map(shellQuote).join(' ');
	if (d.kind === 'exec') return { file: '/bin/sh', args: ['-c', `${d.command} ${remote}`] };
	// No terminal, no escape character, no password prompt: stdin and stdout are the protocol.
	return {
		file: 'ssh',
		args: ['-T', '-e', 'none', '-o', 'BatchMode=yes', ...(d.port ? ['-p', String(d.port)] : []), `${d.user ? `${d.user}@` : ''}${d.host.replace(/^\[|\]$/g, '')}`, '--', remote],
	};
}

export type AgentProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/** Starts the transport; its stderr is kept (the last 8 KiB) for error messages. */
export function startAgent(d: Destination, agent: string[]): { child: AgentProcess; stderr: () => string } {
	const { file, args } = agentCommand(d, agent);
	const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
	let stderr = '';
	child.stderr.on('data', (c: Buffer) => {
		stderr = (stderr + c.toString()).slice(-8192);
	});
	return { child, stderr: () => stderr.trim() };
}
