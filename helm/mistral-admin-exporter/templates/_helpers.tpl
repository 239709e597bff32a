{{/*
The chart's name, or nameOverride.
*/}}
{{- define "mistral-admin-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the resources: fullnameOverride, or <release>-<chart> (just
the release's name when it already contains the chart's). 63 characters at most.
*/}}
{{- define "mistral-admin-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "mistral-admin-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "mistral-admin-exporter.labels" -}}
helm.sh/chart: {{ include "mistral-admin-exporter.chart" . }}
{{ include "mistral-admin-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/component: exporter
app.kubernetes.io/part-of: mistral-admin-exporter
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: what the Deployment, Service and ServiceMonitor match on.
*/}}
{{- define "mistral-admin-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mistral-admin-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The image reference: repository, then the digest or the tag (appVersion by default).
*/}}
{{- define "mistral-admin-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The port the exporter listens on: config.port, or the exporter's default.
*/}}
{{- define "mistral-admin-exporter.port" -}}
{{- $port := get (.Values.config | default dict) "port" }}
{{- if or (kindIs "invalid" $port) (eq (toString $port) "") }}10460{{ else }}{{ $port | int }}{{ end }}
{{- end }}

{{/*
Whether the chart makes a Secret for the Admin API key ("true" or empty):
only for apiKey.value, outside demo mode.
*/}}
{{- define "mistral-admin-exporter.chartApiKey" -}}
{{- if and (not .Values.demo) (not .Values.existingSecret.name) .Values.apiKey.value }}true{{ end }}
{{- end }}

{{/*
Whether the chart makes a Secret for the user-id hash key ("true" or empty).
*/}}
{{- define "mistral-admin-exporter.chartUserIdHashKey" -}}
{{- if and (not .Values.userIdHashKey.existingSecret.name) .Values.userIdHashKey.value }}true{{ end }}
{{- end }}

{{/*
The Secret and key holding the Admin API key: existingSecret, or the chart's own.
*/}}
{{- define "mistral-admin-exporter.apiKeySecretName" -}}
{{- .Values.existingSecret.name | default (include "mistral-admin-exporter.fullname" .) }}
{{- end }}
{{- define "mistral-admin-exporter.apiKeySecretKey" -}}
{{- if .Values.existingSecret.name }}{{ .Values.existingSecret.key | default "api-key" }}{{ else }}api-key{{ end }}
{{- end }}

{{/*
The Secret and key holding the user-id hash key: its existingSecret, or the chart's own.
*/}}
{{- define "mistral-admin-exporter.userIdHashKeySecretName" -}}
{{- .Values.userIdHashKey.existingSecret.name | default (include "mistral-admin-exporter.fullname" .) }}
{{- end }}
{{- define "mistral-admin-exporter.userIdHashKeySecretKey" -}}
{{- if .Values.userIdHashKey.existingSecret.name }}{{ .Values.userIdHashKey.existingSecret.key | default "user-id-hash-key" }}{{ else }}user-id-hash-key{{ end }}
{{- end }}

{{/*
Whether a user-id hash key is mounted ("true" or empty).
*/}}
{{- define "mistral-admin-exporter.hasUserIdHashKey" -}}
{{- if or .Values.userIdHashKey.existingSecret.name .Values.userIdHashKey.value }}true{{ end }}
{{- end }}

{{/*
A config value as the text of its environment variable: lists joined with
commas, numbers as integers (YAML numbers arrive as float64, which would
print 1e+06), the rest as written.
*/}}
{{- define "mistral-admin-exporter.envValue" -}}
{{- if kindIs "slice" . }}{{ join "," . }}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}{{ . | int64 }}
{{- else }}{{ . }}
{{- end }}
{{- end }}

{{/*
A duration in milliseconds, read as the exporter reads its durations
(parseDuration, src/config/values.ts) and Prometheus its own: parts
<number><unit> from the largest unit to the smallest, each unit once, units
ms, s, m, h, d, w, and y (365d) when .prometheus is true. Fails, naming .what,
when .value is not one.
  include "mistral-admin-exporter.durationMs" (dict "what" "config.x" "value" "1h30m") | int64
*/}}
{{- define "mistral-admin-exporter.durationMs" -}}
{{- $units := dict "y" 31536000000 "w" 604800000 "d" 86400000 "h" 3600000 "m" 60000 "s" 1000 "ms" 1 }}
{{- $text := toString .value | trim }}
{{- $parts := regexFindAll `[0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|y)` $text -1 }}
{{- $ok := and $parts (eq (join "" $parts) $text) }}
{{- $total := 0.0 }}
{{- $previous := 0 }}
{{- range $part := $parts }}
{{- $number := regexFind `^[0-9]+(\.[0-9]+)?` $part }}
{{- $unit := trimPrefix $number $part }}
{{- $size := get $units $unit }}
{{- if and $previous (ge $size $previous) }}{{ $ok = false }}{{ end }}
{{- if and (eq $unit "y") (not $.prometheus) }}{{ $ok = false }}{{ end }}
{{- $previous = $size }}
{{- $total = addf $total (mulf $number $size) }}
{{- end }}
{{- if not $ok }}
{{- fail (printf "%s=%q is not a duration: write e.g. 30s, 5m or 1h30m (units ms, s, m, h, d, w, from the largest to the smallest, each once)." .what $text) }}
{{- end }}
{{- round $total 0 | int64 }}
{{- end }}
