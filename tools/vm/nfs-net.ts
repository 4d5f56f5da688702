// The NFS VMs' network (research/nfs-vms.md): one L2 segment, 192.0.2.0/24, made of the server's QEMU
// hub, with its own NIC and one UDP socket netdev per client on it (UDP, not QEMU's TCP stream
// sockets: those add about 45 ms to a round trip). Each client's NIC is the other end of its socket.
// Nothing leaves 127.0.0.1; the ports are picked free per run.
import { createSocket } from 'node:dgram';

export interface LinkPorts {
	/** The server's end and the client's end of one client's link. */
	server: number;
	client: number;
}

/** The guest's address: 192.0.2.N, N also the last byte of its MAC. */
export function guestAddress(n: number): string {
	return `192.0.2.${n}`;
}

function nic(netdev: string, n: number): string[] {
	const mac = `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`;
	// romfile= : no iPXE option ROM (not installed, not needed to boot a kernel directly).
	return ['-device', `virtio-net-pci,netdev=${netdev},mac=${mac},romfile=`];
}

/** QEMU options of the server (address 1): its NIC and every client's link on hub 0. */
export function serverNetwork(links: LinkPorts[]): string[] {
	const args = ['-netdev', 'hubport,id=hp0,hubid=0', ...nic('hp0', 1)];
	links.forEach((l, i) => {
		args.push('-netdev', `socket,id=s${i + 1},udp=127.0.0.1:${l.client},localaddr=127.0.0.1:${l.server}`);
		args.push('-netdev', `hubport,id=hp${i + 1},hubid=0,netdev=s${i + 1}`);
	});
	return args;
}

/** QEMU options of a client of address `n`, at the far end of `link`. */
export function clientNetwork(link: LinkPorts, n: number): string[] {
	return ['-netdev', `socket,id=n0,udp=127.0.0.1:${link.server},localaddr=127.0.0.1:${link.client}`, ...nic('n0', n)];
}

/** A UDP port of 127.0.0.1 that is free now (the kernel's pick, released at once). */
function freeUdpPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const sock = createSocket('udp4');
		sock.on('error', reject);
		sock.bind(0, '127.0.0.1', () => {
			const { port } = sock.address();
			sock.close(() => resolve(port));
		});
	});
}

/** Free ports for `count` links, all different. */
export async function freeLinkPorts(count: number): Promise<LinkPorts[]> {
	const ports = new Set<number>();
	while (ports.size < 2 * count) ports.add(await freeUdpPort());
	const list = [...ports];
	return Array.from({ length: count }, (_, i) => ({ server: list[2 * i]!, client: list[2 * i + 1]! }));
}
