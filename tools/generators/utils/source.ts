import type { Tree } from '@nx/devkit';
import ts from 'typescript';

/**
 * Small, exact edits to TypeScript sources the generators register things in
 * (app modules, migration lists, the services table). Each finds its node in the
 * syntax tree, inserts text there and leaves the rest of the file as it was; Prettier
 * (formatFiles) then lays the result out. A file that does not have the expected
 * shape stops the generator with a message naming the file and the shape.
 */

function read(tree: Tree, file: string): string {
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new Error(`${file} does not exist`);
  return text;
}

function parse(file: string, text: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** Strips `as const`, `satisfies T`, parentheses and `<T>` casts around an expression. */
function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isParenthesizedExpression(current) ||
    ts.isTypeAssertionExpression(current)
  ) {
    current = current.expression;
  }
  return current;
}

/** Every `name: <initializer>` property and `const name = <initializer>` declaration in the file. */
function initializersNamed(source: ts.SourceFile, name: string): ts.Expression[] {
  const found: ts.Expression[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isPropertyAssignment(node) || ts.isVariableDeclaration(node)) &&
      node.initializer &&
      (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
      node.name.text === name
    ) {
      found.push(unwrap(node.initializer));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function onlyOne<T extends ts.Expression>(
  file: string,
  nodes: ts.Expression[],
  is: (node: ts.Node) => node is T,
  what: string,
): T {
  const matching = nodes.filter((node): node is T => is(node));
  if (matching.length !== 1) {
    throw new Error(`${file}: expected exactly one ${what}, found ${matching.length}`);
  }
  return matching[0]!;
}

/** The file's text and its one array literal named `name` (a property such as `features`, or a const). */
function arrayNamed(tree: Tree, file: string, name: string) {
  const text = read(tree, file);
  const array = onlyOne(
    file,
    initializersNamed(parse(file, text), name),
    ts.isArrayLiteralExpression,
    `array \`${name}: [...]\``,
  );
  return { text, array };
}

/** The elements' texts of the one array literal named `name`. */
export function arrayElements(tree: Tree, file: string, name: string): string[] {
  return arrayNamed(tree, file, name).array.elements.map((e) => e.getText());
}

/** Appends `element` to the one array literal named `name`. */
export function appendToArray(tree: Tree, file: string, name: string, element: string): void {
  const { text, array } = arrayNamed(tree, file, name);
  const last = array.elements[array.elements.length - 1];
  const at = last ? last.end : array.elements.pos;
  tree.write(file, text.slice(0, at) + (last ? `, ${element}` : element) + text.slice(at));
}

/** The property names and value texts of the one object literal named `name`, in order. */
export function objectEntries(tree: Tree, file: string, name: string): [string, string][] {
  const text = read(tree, file);
  const object = onlyOne(
    file,
    initializersNamed(parse(file, text), name),
    ts.isObjectLiteralExpression,
    `object \`${name} = { ... }\``,
  );
  return object.properties.filter(ts.isPropertyAssignment).map((p) => {
    const key = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : '';
    return [key, p.initializer.getText()];
  });
}

/** Adds `key: value` as the last property of the one object literal named `name`. */
export function appendToObject(
  tree: Tree,
  file: string,
  name: string,
  key: string,
  value: string,
): void {
  const text = read(tree, file);
  const object = onlyOne(
    file,
    initializersNamed(parse(file, text), name),
    ts.isObjectLiteralExpression,
    `object \`${name} = { ... }\``,
  );
  const property = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  const last = object.properties[object.properties.length - 1];
  const at = last ? last.end : object.properties.pos;
  const entry = `${property}: ${value}`;
  tree.write(file, text.slice(0, at) + (last ? `,\n  ${entry}` : entry) + text.slice(at));
}

/**
 * Adds `import { <names> } from '<from>';` in order: relative imports are sorted by
 * path after the package imports, as the hand-written files have them. Does nothing
 * when the file already imports from that path.
 */
export function addImport(tree: Tree, file: string, names: string[], from: string): void {
  const text = read(tree, file);
  const imports = parse(file, text).statements.filter(ts.isImportDeclaration);
  const specifier = (i: ts.ImportDeclaration) => (i.moduleSpecifier as ts.StringLiteral).text;
  if (imports.some((i) => specifier(i) === from)) return;
  const statement = `import { ${names.join(', ')} } from '${from}';\n`;
  const relative = (path: string) => path.startsWith('.');
  const before = imports.find(
    (i) => relative(specifier(i)) === relative(from) && specifier(i) > from,
  );
  if (before) {
    const at = before.getStart();
    tree.write(file, text.slice(0, at) + statement + text.slice(at));
    return;
  }
  const sameKind = imports.filter((i) => relative(specifier(i)) === relative(from));
  const after = sameKind[sameKind.length - 1] ?? imports[imports.length - 1];
  const lineEnd = after ? text.indexOf('\n', after.end) : -1;
  const at = !after ? 0 : lineEnd === -1 ? text.length : lineEnd + 1;
  const separator = after && lineEnd === -1 ? '\n' : '';
  tree.write(file, text.slice(0, at) + separator + statement + text.slice(at));
}

/** Every name a module exports by name (`export { A, type B } from ...`, `export const C`, ...). */
export function exportedNames(tree: Tree, file: string): Set<string> {
  const source = parse(file, read(tree, file));
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause) {
      if (ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) names.add(element.name.text);
      }
    } else if (
      ts.canHaveModifiers(statement) &&
      ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    ) {
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) {
          if (ts.isIdentifier(d.name)) names.add(d.name.text);
        }
      } else if (
        (ts.isClassDeclaration(statement) ||
          ts.isFunctionDeclaration(statement) ||
          ts.isInterfaceDeclaration(statement) ||
          ts.isTypeAliasDeclaration(statement) ||
          ts.isEnumDeclaration(statement)) &&
        statement.name
      ) {
        names.add(statement.name.text);
      }
    }
  }
  return names;
}
