/**
 * Where a source file touches `process.env`, found with the TypeScript parser, so comments and strings do
 * not count and no spelling hides a read: `process.env`, `process['env']`, `globalThis.process.env`,
 * `const { env } = process`, `import { env } from 'node:process'`, and the same through a name the
 * process object was given (`import proc from 'node:process'`, `const p = process`).
 */
import ts from 'typescript';

const PROCESS_MODULES = new Set(['process', 'node:process']);

export interface ProcessEnvUse {
  readonly line: number;
  readonly code: string;
}

export function processEnvUses(fileName: string, source: string): ProcessEnvUse[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, scriptKind(fileName));
  const names = new Set(['process']);
  const uses: ts.Node[] = [];

  const isProcess = (node: ts.Expression): boolean => {
    const inner = skipWrappers(node);
    if (ts.isIdentifier(inner)) return names.has(inner.text);
    return (
      ts.isPropertyAccessExpression(inner) &&
      inner.name.text === 'process' &&
      ts.isIdentifier(skipWrappers(inner.expression)) &&
      (skipWrappers(inner.expression) as ts.Identifier).text === 'globalThis'
    );
  };

  // First the names the process object goes by, then the uses through any of them.
  const collectNames = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (PROCESS_MODULES.has(node.moduleSpecifier.text)) {
        const clause = node.importClause;
        if (clause?.name) names.add(clause.name.text);
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
        if (bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) {
            const imported = (element.propertyName ?? element.name).text;
            if (imported === 'env') uses.push(element);
            if (imported === 'default') names.add(element.name.text);
          }
        }
      }
    }
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer !== undefined &&
      isProcess(node.initializer)
    ) {
      names.add(node.name.text);
    }
    ts.forEachChild(node, collectNames);
  };

  const collectUses = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'env' && isProcess(node.expression)) {
      uses.push(node);
    } else if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      node.argumentExpression.text === 'env' &&
      isProcess(node.expression)
    ) {
      uses.push(node);
    } else if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer !== undefined &&
      isProcess(node.initializer)
    ) {
      for (const element of node.name.elements) {
        const property = element.propertyName ?? element.name;
        if (ts.isIdentifier(property) && property.text === 'env') uses.push(element);
        if (ts.isStringLiteral(property) && property.text === 'env') uses.push(element);
      }
    }
    ts.forEachChild(node, collectUses);
  };

  collectNames(file);
  collectUses(file);
  return uses.map((node) => ({
    line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1,
    code: node.getText(file),
  }));
}

function skipWrappers(node: ts.Expression): ts.Expression {
  let inner = node;
  while (
    ts.isParenthesizedExpression(inner) ||
    ts.isNonNullExpression(inner) ||
    ts.isAsExpression(inner) ||
    ts.isSatisfiesExpression(inner)
  ) {
    inner = inner.expression;
  }
  return inner;
}

function scriptKind(fileName: string): ts.ScriptKind {
  if (/\.(ts|mts|cts)$/.test(fileName)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}
