// A vega-lite specification to SVG (vega's own headless SVG renderer), then to PNG (resvg), with the
// DejaVu Sans font from npm, so the PNG has its text on a machine without any font installed.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const require = createRequire(import.meta.url);
const FONT_FILE = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf/DejaVuSans.ttf');

export async function toSvg(spec: TopLevelSpec): Promise<string> {
	const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
	try {
		return await view.toSVG();
	} finally {
		view.finalize();
	}
}

export function toPng(svg: string, zoom = 2): Buffer {
	const resvg = new Resvg(svg, {
		background: 'white',
		fitTo: { mode: 'zoom', value: zoom },
		font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
	});
	return resvg.render().asPng();
}
