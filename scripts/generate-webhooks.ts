/**
 * Regenerates deploy/webhooks/landlord-admission.yaml from src/admission/configurations.ts.
 *   node scripts/generate-webhooks.ts          write the file
 *   node scripts/generate-webhooks.ts --check  exit 1 when the file has drifted
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { webhookManifest } from '../src/admission/index.ts';

const file = path.join(import.meta.dirname, '..', 'deploy', 'webhooks', 'landlord-admission.yaml');
const wanted = webhookManifest();
if (process.argv.includes('--check')) {
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current !== wanted) {
    console.error(`${file} is out of date: run node scripts/generate-webhooks.ts`);
    process.exitCode = 1;
  }
} else {
  await writeFile(file, wanted);
  console.log(`wrote ${file}`);
}
