// Every public symbol of @streamgate/client has TSDoc: each export of client-sdk/src/index.ts, and each
// public member of the interfaces and classes it exports (what an editor shows on hover).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const sdk = join(dirname(fileURLToPath(import.meta.url)), "../../client-sdk");
const entry = join(sdk, "src/index.ts");

function program(): ts.Program {
  const configPath = join(sdk, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, sdk, { noEmit: true }, configPath);
  return ts.createProgram([entry], parsed.options);
}

/** A JSDoc block on the node (for `export { a as b }`, on its export declaration). */
function hasDoc(node: ts.Node): boolean {
  const target = ts.isExportSpecifier(node) ? node.parent.parent : node;
  return ts.getJSDocCommentsAndTags(target).some((d) => ts.isJSDoc(d) && (d.comment !== undefined || (d.tags?.length ?? 0) > 0));
}

function isPublic(member: ts.ClassElement | ts.TypeElement): boolean {
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  return !(member.name && ts.isPrivateIdentifier(member.name));
}

function memberName(member: ts.ClassElement | ts.TypeElement, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(member)) return "constructor";
  return member.name?.getText(source) ?? "(unnamed)";
}

describe("TSDoc", () => {
  it("documents every export of the SDK and every public member of its interfaces and classes", () => {
    const p = program();
    const checker = p.getTypeChecker();
    const index = p.getSourceFile(entry) as ts.SourceFile;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(index) as ts.Symbol);
    expect(exports.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const exported of exports) {
      // Follow the re-export chain (index.ts -> module -> e.g. grpc-js for Code); a doc anywhere on it counts.
      const chain: ts.Symbol[] = [];
      for (
        let s: ts.Symbol | undefined = exported;
        s;
        s = s.flags & ts.SymbolFlags.Alias ? checker.getImmediateAliasedSymbol(s) : undefined
      ) {
        chain.push(s);
      }
      const declarations = chain.flatMap((s) => s.declarations ?? []).filter((d) => d.getSourceFile() !== index);
      if (!declarations.some(hasDoc)) missing.push(exported.name);
      for (const decl of declarations) {
        if (!ts.isInterfaceDeclaration(decl) && !ts.isClassDeclaration(decl)) continue;
        if (decl.getSourceFile().fileName.includes("node_modules")) continue;
        for (const member of decl.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>) {
          if (ts.isIndexSignatureDeclaration(member) || !isPublic(member)) continue;
          if (!hasDoc(member)) missing.push(`${exported.name}.${memberName(member, decl.getSourceFile())}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
