// Type-checks a fixture as a TypeScript user's strict project would; `// @ts-expect-error` lines
// in it are checked too (an error that no longer happens is a problem: TS2578).
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export function typeProblems(fixture: string): string[] {
  const file = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${fixture}:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
