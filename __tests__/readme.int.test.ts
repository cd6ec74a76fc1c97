/**
 * README.md is the spec users copy from: every TypeScript block in it is typechecked here, under
 * `strict`, against the BUILT package (`langchain-autopicker` resolves through package.json
 * `exports` to dist/, as it does for a user). A block that shows a fragment declares what it leaves
 * out in an HTML comment right above it, `<!-- prelude ... -->` (TypeScript prepended to the block,
 * invisible on GitHub); a block that is deliberately not code says so with `<!-- fragment: why -->`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const repo = join(__dirname, "..");

interface Block {
  /** 1-based README line of the block's first code line. */
  line: number;
  code: string;
  prelude: string;
  fragment?: string;
}

function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(ts|typescript)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    // The directive comment ends on the line right above the fence.
    let prelude = "";
    let fragment: string | undefined;
    if (lines[i - 1]?.trim().endsWith("-->")) {
      let start = i - 1;
      while (start > 0 && !lines[start]!.includes("<!--")) start--;
      const comment = lines
        .slice(start, i)
        .join("\n")
        .replace(/^[\s\S]*?<!--/, "")
        .replace(/-->\s*$/, "");
      const directive = /^\s*(prelude|fragment)\b:?/.exec(comment);
      if (directive?.[1] === "prelude") prelude = comment.slice(directive[0].length);
      if (directive?.[1] === "fragment") fragment = comment.slice(directive[0].length).trim();
    }
    const end = lines.indexOf("```", i + 1);
    blocks.push({
      line: i + 2,
      code: lines.slice(i + 1, end).join("\n"),
      prelude,
      ...(fragment ? { fragment } : {}),
    });
    i = end;
  }
  return blocks;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(path) : s.mtimeMs);
  }
  return newest;
}

const blocks = readmeBlocks(readFileSync(join(repo, "README.md"), "utf8"));

describe("README.md", () => {
  it("has TypeScript blocks, and every fragment says why it is not checked", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    for (const b of blocks.filter((x) => x.fragment !== undefined))
      expect(b.fragment!.length).toBeGreaterThan(10);
  });

  it("every TypeScript block typechecks under strict against the built package", () => {
    const dist = join(repo, "dist", "index.d.ts");
    if (!existsSync(dist))
      throw new Error("dist/ is missing: run `npm run build` (npm install runs it too).");
    if (statSync(dist).mtimeMs < newestMtime(join(repo, "src"))) {
      throw new Error(
        "dist/ is older than src/: run `npm run build` so README blocks are checked against your code.",
      );
    }
    // Virtual files inside the repo: imports resolve from its node_modules, and the package's own
    // name resolves through its package.json `exports` (self-reference) to dist/.
    const files = new Map<string, { block: Block; text: string; offset: number }>();
    for (const [n, block] of blocks.entries()) {
      if (block.fragment !== undefined) continue;
      const head = `${block.prelude}\n`;
      files.set(join(repo, "__readme__", `block-${n}.ts`), {
        block,
        text: `${head}${block.code}\nexport {};\n`,
        offset: head.split("\n").length - 1,
      });
    }
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ["node"],
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    const exists = host.fileExists.bind(host);
    const source = host.getSourceFile.bind(host);
    host.readFile = (f) => files.get(f)?.text ?? read(f);
    host.fileExists = (f) => files.has(f) || exists(f);
    host.getSourceFile = (f, v, ...rest) => {
      const virtual = files.get(f);
      return virtual ? ts.createSourceFile(f, virtual.text, v) : source(f, v, ...rest);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      const virtual = d.file && files.get(d.file.fileName);
      if (!virtual || d.start === undefined) return text;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start);
      const inBlock = line - virtual.offset;
      const where =
        inBlock >= 0
          ? `README.md:${virtual.block.line + inBlock}`
          : `prelude of the block at README.md:${virtual.block.line}`;
      return `${where}: ${text}`;
    });
    expect(problems).toEqual([]);
  });
});
