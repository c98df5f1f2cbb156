/**
 * Finds the error codes source files name, by syntax alone (fast enough for the unit suite; the type
 * checker already refuses a code outside the catalogue wherever a code is typed). A string literal is a
 * code where it is:
 * - an argument for a parameter typed `ErrorCode`, `HttpErrorCode` or an alias of them (`S3ErrorCode`
 *   for S3's codes), of a function or class declared in the files;
 * - the value of a `code` or `errorCode` property of an object literal;
 * - what initialises, or a function returns as, something of such a type, or a value of an object
 *   literal that `satisfies` a type naming one;
 * directly or as a branch of `?:`, `??` or `||`. Left out: zod's issue objects (`addIssue({ code:
 * 'custom' })`) and Node's errno codes (`{ code: 'EISDIR' }`), which are their protocols, not Inlet's.
 */
import ts from 'typescript';

export type CodeKind = 'inlet' | 's3';

export interface CodeUse {
  readonly code: string;
  readonly kind: CodeKind;
  readonly file: string;
  readonly line: number;
}

export interface SourceText {
  readonly file: string;
  readonly text: string;
}

const PROPERTY_NAMES = new Set(['code', 'errorCode']);
const NODE_ERRNO = /^E[A-Z0-9]+$/;

/** Type names that hold codes, and which kind: the catalogue's, then any alias declared from them. */
type CodeTypes = Map<string, CodeKind>;

interface ClassInfo {
  readonly base: string | undefined;
  readonly parameters: readonly (CodeKind | undefined)[] | undefined;
}

interface Declarations {
  readonly functions: Map<string, readonly (CodeKind | undefined)[]>;
  readonly classes: Map<string, ClassInfo>;
}

export function codeUses(sources: readonly SourceText[]): CodeUse[] {
  const parsed = sources.map((source) => ({
    file: source.file,
    node: ts.createSourceFile(source.file, source.text, ts.ScriptTarget.Latest, true),
  }));
  const types: CodeTypes = new Map([
    ['ErrorCode', 'inlet'],
    ['HttpErrorCode', 'inlet'],
    ['S3ErrorCode', 's3'],
  ]);
  for (const { node } of parsed) collectAliases(node, types);
  const declarations: Declarations = { functions: new Map(), classes: new Map() };
  for (const { node } of parsed) declare(node, types, declarations);

  const constructorOf = (
    name: string,
    seen = new Set<string>(),
  ): readonly (CodeKind | undefined)[] | undefined => {
    const info = declarations.classes.get(name);
    if (info === undefined || seen.has(name)) return undefined;
    seen.add(name);
    return info.parameters ?? (info.base === undefined ? undefined : constructorOf(info.base, seen));
  };

  const uses: CodeUse[] = [];
  for (const { file, node } of parsed) {
    const record = (expression: ts.Node, kind: CodeKind) => {
      const line = node.getLineAndCharacterOfPosition(expression.getStart()).line + 1;
      for (const code of literalTexts(expression)) uses.push({ code, kind, file, line });
    };
    const visit = (current: ts.Node, enclosingClass: ts.ClassLikeDeclaration | undefined): void => {
      if (ts.isClassLike(current)) enclosingClass = current;
      if (ts.isCallExpression(current) || ts.isNewExpression(current)) {
        const parameters = parametersOf(current, enclosingClass, declarations, constructorOf);
        parameters?.forEach((kind, index) => {
          const argument = current.arguments?.[index];
          if (kind !== undefined && argument !== undefined) record(argument, kind);
        });
      }
      if (ts.isPropertyAssignment(current) && PROPERTY_NAMES.has(nameOf(current.name) ?? '')) {
        if (!insideZodIssue(current)) record(current.initializer, 'inlet');
      }
      if (
        (ts.isVariableDeclaration(current) || ts.isPropertyDeclaration(current)) &&
        current.initializer !== undefined
      ) {
        const kind = kindOf(current.type, types);
        if (kind !== undefined) record(current.initializer, kind);
      }
      if (ts.isReturnStatement(current) && current.expression !== undefined) {
        const kind = kindOf(enclosingFunction(current)?.type, types);
        if (kind !== undefined) record(current.expression, kind);
      }
      if (
        ts.isSatisfiesExpression(current) &&
        ts.isObjectLiteralExpression(skipAsConst(current.expression))
      ) {
        const kind = kindIn(current.type, types);
        const literal = skipAsConst(current.expression) as ts.ObjectLiteralExpression;
        if (kind !== undefined) {
          for (const property of literal.properties) {
            if (ts.isPropertyAssignment(property)) record(property.initializer, kind);
          }
        }
      }
      ts.forEachChild(current, (child) => visit(child, enclosingClass));
    };
    visit(node, undefined);
  }
  return uses.filter((use) => !NODE_ERRNO.test(use.code));
}

/** `type TokenRefusalCode = Extract<HttpErrorCode, …>` makes `TokenRefusalCode` a code type too. */
function collectAliases(node: ts.Node, types: CodeTypes): void {
  if (ts.isTypeAliasDeclaration(node)) {
    const kind = kindIn(node.type, types);
    if (kind !== undefined) types.set(node.name.text, kind);
  }
  ts.forEachChild(node, (child) => collectAliases(child, types));
}

function declare(node: ts.Node, types: CodeTypes, declarations: Declarations): void {
  if (ts.isFunctionDeclaration(node) && node.name !== undefined) {
    declarations.functions.set(node.name.text, parameterKinds(node.parameters, types));
  }
  if (
    ts.isVariableDeclaration(node) &&
    ts.isIdentifier(node.name) &&
    node.initializer !== undefined &&
    (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
  ) {
    declarations.functions.set(node.name.text, parameterKinds(node.initializer.parameters, types));
  }
  if (ts.isClassDeclaration(node) && node.name !== undefined) {
    const initialiser = node.members.find(ts.isConstructorDeclaration);
    declarations.classes.set(node.name.text, {
      base: baseOf(node),
      parameters: initialiser === undefined ? undefined : parameterKinds(initialiser.parameters, types),
    });
  }
  ts.forEachChild(node, (child) => declare(child, types, declarations));
}

function parameterKinds(
  parameters: ts.NodeArray<ts.ParameterDeclaration>,
  types: CodeTypes,
): (CodeKind | undefined)[] {
  return parameters.map((parameter) => kindOf(parameter.type, types));
}

function parametersOf(
  call: ts.CallExpression | ts.NewExpression,
  enclosingClass: ts.ClassLikeDeclaration | undefined,
  declarations: Declarations,
  constructorOf: (name: string) => readonly (CodeKind | undefined)[] | undefined,
): readonly (CodeKind | undefined)[] | undefined {
  const callee = call.expression;
  if (ts.isNewExpression(call)) return ts.isIdentifier(callee) ? constructorOf(callee.text) : undefined;
  if (callee.kind === ts.SyntaxKind.SuperKeyword) {
    const base = enclosingClass === undefined ? undefined : baseOf(enclosingClass);
    return base === undefined ? undefined : constructorOf(base);
  }
  return ts.isIdentifier(callee) ? declarations.functions.get(callee.text) : undefined;
}

function baseOf(declaration: ts.ClassLikeDeclaration): string | undefined {
  return declaration.heritageClauses
    ?.find((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword)
    ?.types[0]?.expression.getText();
}

/** The kind of codes a type annotation is exactly (a code type, or a union of them). */
function kindOf(type: ts.TypeNode | undefined, types: CodeTypes): CodeKind | undefined {
  if (type === undefined) return undefined;
  if (ts.isTypeReferenceNode(type)) return types.get(type.typeName.getText());
  if (ts.isUnionTypeNode(type)) {
    for (const member of type.types) {
      const kind = kindOf(member, types);
      if (kind !== undefined) return kind;
    }
  }
  return undefined;
}

/** The kind of codes a type names anywhere in it (`Record<string, ErrorCode>`, `Extract<HttpErrorCode, …>`). */
function kindIn(type: ts.Node, types: CodeTypes): CodeKind | undefined {
  if (ts.isTypeReferenceNode(type)) {
    const kind = types.get(type.typeName.getText());
    if (kind !== undefined) return kind;
  }
  let found: CodeKind | undefined;
  ts.forEachChild(type, (child) => {
    found ??= kindIn(child, types);
  });
  return found;
}

function enclosingFunction(node: ts.Node): ts.SignatureDeclaration | undefined {
  for (let current = node.parent; current !== undefined; current = current.parent) {
    if (ts.isFunctionLike(current)) return current;
  }
  return undefined;
}

function skipAsConst(expression: ts.Expression): ts.Expression {
  return ts.isAsExpression(expression) ? skipAsConst(expression.expression) : expression;
}

/** The string values an expression can take, when it is made of literals: `a ? 'x' : 'y'` gives both. */
function literalTexts(expression: ts.Node): string[] {
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression))
    return [expression.text];
  if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression)) {
    return literalTexts(expression.expression);
  }
  if (ts.isConditionalExpression(expression)) {
    return [...literalTexts(expression.whenTrue), ...literalTexts(expression.whenFalse)];
  }
  if (
    ts.isBinaryExpression(expression) &&
    (expression.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken ||
      expression.operatorToken.kind === ts.SyntaxKind.BarBarToken)
  ) {
    return [...literalTexts(expression.left), ...literalTexts(expression.right)];
  }
  return [];
}

function nameOf(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/** `ctx.addIssue({ code: 'custom', … })`: zod's issue codes. */
function insideZodIssue(property: ts.PropertyAssignment): boolean {
  const call = property.parent.parent;
  return (
    ts.isCallExpression(call) &&
    ts.isPropertyAccessExpression(call.expression) &&
    call.expression.name.text === 'addIssue'
  );
}
