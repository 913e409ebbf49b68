#!/usr/bin/env python3
"""Turns the `//` comment lines directly above a declaration in the public headers into `///`,
and a member's trailing `//` comment into `///<`, so that Doxygen reads them. Leaves alone:
file headers (comments followed by #include or a blank line), `// ----` rulers and any block
holding one, comments inside function bodies, and files named on the command line with --skip."""
import re, sys, pathlib

skip = set()
args = sys.argv[1:]
if args and args[0] == '--skip':
    skip = set(args[1].split(','))
    args = args[2:]
root = pathlib.Path(args[0] if args else 'include/eigrad')

COMMENT = re.compile(r'^(\s*)//(?!/)(.*)$')
RULER = re.compile(r'^\s*//\s*[-=]{3,}')
STATEMENT = re.compile(r'^\s*(return|if|else|for|while|do|switch|case|throw|break|continue|'
                       r'auto |const auto|static_assert|EIGEN_|assert)\b')

def body_depths(lines):
    """Per line: the number of open braces that belong to function bodies (not namespace,
    class, struct, enum or initialiser braces)."""
    stack, depths = [], []
    for line in lines:
        code = re.sub(r'//.*$', '', line)
        code = re.sub(r'"([^"\\]|\\.)*"', '""', code)
        code = re.sub(r"'([^'\\]|\\.)*'", "''", code)
        depths.append(sum(1 for kind in stack if kind == 'body'))
        for ch in code:
            if ch == '{':
                head = code[:code.index('{')] if '{' in code else code
                if re.search(r'\b(namespace|class|struct|enum|union)\b', code):
                    kind = 'scope'
                elif re.search(r'\)\s*(const)?\s*(noexcept)?\s*(override)?\s*(->[^{]*)?\{', code) or \
                        re.search(r'\belse\b|\bdo\b|\btry\b', code) or stack and stack[-1] == 'body':
                    kind = 'body'
                else:
                    kind = 'scope' if not stack or stack[-1] == 'scope' else 'body'
                stack.append(kind)
            elif ch == '}':
                if stack:
                    stack.pop()
    return depths

def convert(text):
    lines = text.split('\n')
    depths = body_depths(lines)
    out = list(lines)
    i = 0
    while i < len(lines):
        m = COMMENT.match(lines[i])
        if not m:
            i += 1
            continue
        if RULER.match(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and COMMENT.match(lines[j]) and not RULER.match(lines[j]) and \
                COMMENT.match(lines[j]).group(1) == m.group(1):
            j += 1
        block = range(i, j)
        nxt = lines[j] if j < len(lines) else ''
        ok = (nxt.strip() and not nxt.lstrip().startswith(('#', '}', '//', '/*', 'namespace',
                                                              'public:', 'private:', 'protected:'))
              and not STATEMENT.match(nxt)
              and not any(RULER.match(lines[k]) for k in block)
              and depths[i] == 0
              and not any('NOLINT' in lines[k] or 'clang-format' in lines[k] for k in block))
        if ok:
            for k in block:
                out[k] = re.sub(r'^(\s*)//', r'\1///', lines[k], count=1)
        i = j
    # Trailing comments on declarations at namespace or class scope.
    for k, line in enumerate(out):
        if depths[k] != 0 or line.lstrip().startswith('//'):
            continue
        m = re.match(r'^(\s*[^"\'/]*?[;,{]\s*)//(?![/!<])\s?(.*)$', line)
        if m and not line.lstrip().startswith(('#', '}', 'namespace')) and \
                not re.search(r'\b(namespace|class|struct)\b.*\{', m.group(1)):
            out[k] = m.group(1) + '///< ' + m.group(2)
    return '\n'.join(out)

for path in sorted(root.rglob('*.hpp')):
    if str(path) in skip:
        continue
    text = path.read_text()
    new = convert(text)
    if new != text:
        path.write_text(new)
