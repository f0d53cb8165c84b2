// Runs one piece of PNG reading in its own process, so a test can kill it when it hangs: a parser
// stuck in a synchronous loop also stops the timers that node:test's own timeout relies on.
//   parse                 parseParameters over every quadratic-prone text; prints how many
//   gallery DIR           constructs a Gallery over DIR; prints the listed ids as JSON
import { Gallery } from '../../electron/gallery.ts';
import { parseParameters } from '../../src-core/png/parameters.ts';
import { quadraticParameterTexts } from './hostile-pngs.ts';

const [what, arg] = process.argv.slice(2);
if (what === 'parse') {
  let parsed = 0;
  for (const { text } of quadraticParameterTexts()) {
    parseParameters(text);
    parseParameters(`a prompt\n${text}`);
    parsed += 2;
  }
  console.log(JSON.stringify({ parsed }));
} else if (what === 'gallery') {
  console.log(JSON.stringify(new Gallery(arg).list().map((e) => e.id)));
} else {
  throw new Error(`unknown probe "${what}"`);
}
