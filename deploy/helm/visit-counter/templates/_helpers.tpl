{{/*
Names and labels shared by every template.
*/}}

{{/* The chart name, for the app.kubernetes.io/name label. */}}
{{- define "visit-counter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: the release name, or fullnameOverride. Cut to 45
characters so that the longest suffix, "-web-headless", still fits in a DNS label.
*/}}
{{- define "visit-counter.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "visit-counter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select one component's pods. Call with (dict "root" $ "component" "web"). */}}
{{- define "visit-counter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "visit-counter.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Every label of one component's objects. Call with (dict "root" $ "component" "web"). */}}
{{- define "visit-counter.labels" -}}
helm.sh/chart: {{ include "visit-counter.chart" .root }}
{{ include "visit-counter.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: visit-counter
{{- end }}

{{/* repository:tag of image.web or image.balancer. Call with (dict "root" $ "image" .Values.image.web). */}}
{{- define "visit-counter.image" -}}
{{- printf "%s:%s" .image.repository (.image.tag | default .root.Chart.AppVersion | toString) }}
{{- end }}

{{/* The Secret that holds ADMIN_TOKEN: the existing one, or the one the chart makes. */}}
{{- define "visit-counter.adminSecretName" -}}
{{- .Values.balancer.adminToken.existingSecret | default (printf "%s-balancer-admin" (include "visit-counter.fullname" .)) }}
{{- end }}
